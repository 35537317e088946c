import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, expect, it, vi } from 'vitest';
import { at, json, mockServer, renderPage } from '../test/render';
import AuditLog, { dayBound } from './AuditLog';

afterEach(() => vi.unstubAllGlobals());

const vpsId = '01930000-0000-7000-8000-0000000000a1';
const entry = {
  id: '01930000-0000-7000-8000-0000000000c1',
  at: '2026-11-20T10:00:00Z',
  actor: { kind: 'api_key', name: 'ops-key', id: null },
  action: 'update',
  resource_type: 'vps',
  resource_id: vpsId,
  before: { hostname: 'tokyo-1', status: 'provisioning', updated_at: '1' },
  after: { hostname: 'tokyo-1', status: 'active', updated_at: '2' },
  ip: '10.0.0.7',
  request_id: 'req-42',
};

it('reads its filters from the URL, sends them to the API and opens an entry onto its diff', async () => {
  const user = userEvent.setup();
  const server = mockServer(at('GET', '/api/audit-logs', () => json({ data: [entry], total: 1, page: 1, per_page: 50 })));
  const { router } = renderPage(<AuditLog />, { path: '/audit', url: '/audit?resource_type=vps&action=update&from=2026-11-01' });
  const row = await screen.findByTestId('audit-entry');
  const sent = new URL(server.calls[0]!.url).searchParams;
  expect(sent.get('resource_type')).toBe('vps');
  expect(sent.get('action')).toBe('update');
  expect(sent.get('from')).toBe(dayBound('2026-11-01'));
  expect((screen.getByLabelText('Action') as HTMLSelectElement).value).toBe('update');
  expect(within(row).getByText('Changed')).toBeTruthy();
  expect(within(row).getByRole('link', { name: 'tokyo-1' }).getAttribute('href')).toBe(`/vps/${vpsId}`);
  expect(within(row).getByText('by ops-key (API key)')).toBeTruthy();

  expect(within(row).queryByTestId('audit-diff')).toBeNull();
  await user.click(within(row).getByRole('button', { name: 'Show what changed' }));
  const diff = within(row).getByTestId('audit-diff');
  expect(within(diff).getByText('status')).toBeTruthy();
  expect(within(diff).getByText('provisioning')).toBeTruthy();
  expect(within(diff).getByText('active')).toBeTruthy();
  expect(within(diff).queryByText('updated_at')).toBeNull();
  expect(within(row).getByText('From 10.0.0.7. Request req-42.', { normalizer: (s) => s.replace(/\s+/g, ' ').trim() })).toBeTruthy();

  await user.selectOptions(screen.getByLabelText('Resource'), 'provider');
  await waitFor(() => expect(router.state.location.search).toContain('resource_type=provider'));
  expect(router.state.location.search).toContain('action=update');
});

it('says when nothing matches, and shows errors', async () => {
  mockServer(at('GET', '/api/audit-logs', () => json({ data: [], total: 0, page: 1, per_page: 50 })));
  renderPage(<AuditLog />, { path: '/audit', url: '/audit?actor=nobody' });
  expect(await screen.findByText('No change matches these filters')).toBeTruthy();
  vi.unstubAllGlobals();

  mockServer(at('GET', '/api/audit-logs', () => json({ error: { code: 'forbidden', message: 'admins only' } }, 403)));
  renderPage(<AuditLog />, { path: '/audit', url: '/audit' });
  expect(await screen.findByText('admins only')).toBeTruthy();
});
