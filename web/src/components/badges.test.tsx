import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { I18nProvider } from '../i18n';
import { AgentDot, ExpiryBadge, IpLabelBadge, StatusBadge } from './badges';

const today = new Date('2026-11-10T12:00:00Z');

describe('badges', () => {
  it('names the status in the chosen language', () => {
    render(
      <I18nProvider lang="zh">
        <StatusBadge status="active" />
      </I18nProvider>,
    );
    expect(screen.getByText('运行中')).toBeTruthy();
  });

  it('grades expiry by urgency', () => {
    render(
      <I18nProvider lang="en">
        <ExpiryBadge date="2026-11-08" today={today} />
        <ExpiryBadge date="2026-11-15" today={today} />
        <ExpiryBadge date="2026-12-01" today={today} />
        <ExpiryBadge date={null} today={today} />
      </I18nProvider>,
    );
    expect(screen.getByText('Expired 2 d ago').dataset.level).toBe('overdue');
    expect(screen.getByText('In 5 d').dataset.level).toBe('critical');
    expect(screen.getByText('In 21 d').dataset.level).toBe('warning');
  });

  it('labels the agent dot and address networks for screen readers', () => {
    const { container } = render(
      <I18nProvider lang="en">
        <AgentDot status="online" />
        <AgentDot status={null} />
        <IpLabelBadge label="china-telecom" />
      </I18nProvider>,
    );
    expect(screen.getByText('Agent online')).toBeTruthy();
    expect(screen.getByText('No agent')).toBeTruthy();
    expect(screen.getByText('China Telecom')).toBeTruthy();
    expect(container.querySelector('[data-agent-status="online"]')).toBeTruthy();
  });
});
