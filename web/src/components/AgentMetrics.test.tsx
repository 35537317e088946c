import { render, screen } from '@testing-library/react';
import { expect, it } from 'vitest';
import { I18nProvider } from '../i18n';
import { AgentMetrics } from './AgentMetrics';

it('shows CPU, memory and the listening ports of a heartbeat', () => {
  render(
    <I18nProvider lang="en">
      <AgentMetrics
        metrics={{
          cpu_percent: 77.25,
          load: { one: 0.5, five: 0.25, fifteen: 0.1 },
          memory: { total_bytes: 2_000_000_000, used_bytes: 800_000_000 },
          ports: [
            { protocol: 'tcp', address: '0.0.0.0', port: 22, process: 'sshd' },
            { protocol: 'udp', address: '0.0.0.0', port: 51820 },
          ],
        }}
      />
    </I18nProvider>,
  );
  expect(screen.getByTestId('agent-cpu').textContent).toBe('77.25 %');
  expect(screen.getByTestId('agent-memory').textContent).toContain('762.9 MiB / 1.9 GiB');
  expect(screen.getByTestId('agent-ports').textContent).toBe('tcp/22 sshdudp/51820');
});
