import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, expect, it, vi } from 'vitest';
import { at, json, mockServer, renderPage } from '../test/render';
import Agents, { tokenState } from './Agents';

afterEach(() => vi.unstubAllGlobals());

const agent = (over: Record<string, unknown>) => ({
  id: 'a1',
  hostname: 'tokyo-1',
  os: 'debian',
  arch: 'x86_64',
  agent_version: '0.1.0',
  ip_addresses: ['103.1.2.3'],
  claimed: false,
  key_pending: false,
  registered_at: '2026-11-01T00:00:00Z',
  status: 'pending',
  status_changed_at: '2026-11-01T00:00:00Z',
  ...over,
});
const me = (role: string) => at('GET', '/api/auth/me', () => json({ kind: 'user', name: 'ops@example.com', role }));
const empty = (path: string) => at('GET', path, () => json({ data: [], total: 0, page: 1, per_page: 500 }));

it('lists pending and claimed agents and claims one with its token and a VPS', async () => {
  const user = userEvent.setup();
  const server = mockServer(
    me('operator'),
    at('GET', '/api/agents', () => json({ data: [agent({}), agent({ id: 'a2', hostname: 'osaka-1', claimed: true, status: 'online', vps_id: 'v9' })], total: 2, page: 1, per_page: 500 })),
    at('GET', '/api/vps', () => json({ data: [{ id: 'v9', hostname: 'osaka-1' }, { id: 'v1', hostname: 'tokyo-1' }], total: 2, page: 1, per_page: 500 })),
    empty('/api/providers'),
    at('POST', '/api/agents/claim', () => json(agent({ claimed: true, vps_id: 'v1' }))),
  );
  renderPage(<Agents />, { path: '/agents' });
  const pending = await screen.findByTestId('pending-agents');
  expect(within(pending).getByText('tokyo-1')).toBeTruthy();
  expect(within(screen.getByTestId('claimed-agents')).getByTestId('agent-status').textContent).toBe('Agent online');
  // An operator sees no enrolment tokens: they are for admins.
  expect(screen.queryByTestId('enrollment-tokens')).toBeNull();

  await user.click(within(pending).getByTestId('claim-agent'));
  const dialog = await screen.findByRole('dialog');
  expect((within(dialog).getByLabelText('Agent id') as HTMLInputElement).value).toBe('a1');
  await user.type(within(dialog).getByLabelText('Claim token'), ' claim-123 ');
  await waitFor(() => expect(within(dialog).getAllByRole('option', { name: 'tokyo-1' })).toHaveLength(1));
  await user.selectOptions(within(dialog).getByLabelText('VPS'), 'v1');
  expect(within(dialog).queryByLabelText('Country')).toBeNull();
  await user.click(screen.getByTestId('claim-submit'));
  await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
  const claim = server.calls.find((c) => c.method === 'POST' && new URL(c.url).pathname === '/api/agents/claim')!;
  expect(await claim.json()).toEqual({ agent_id: 'a1', claim_token: 'claim-123', vps_id: 'v1', provider_id: null, country: null, purpose: null });
});

it('says so when the claim token is wrong, and keeps the dialog open', async () => {
  const user = userEvent.setup();
  mockServer(
    me('admin'),
    at('GET', '/api/agents', () => json({ data: [agent({})], total: 1, page: 1, per_page: 500 })),
    at('GET', '/api/agents/enrollment-tokens', () => json([])),
    empty('/api/vps'),
    empty('/api/providers'),
    at('POST', '/api/agents/claim', () => json({ error: { code: 'forbidden', message: 'the claim token does not match' } }, 403)),
  );
  renderPage(<Agents />, { path: '/agents' });
  await user.click(await screen.findByTestId('claim-agent'));
  const dialog = await screen.findByRole('dialog');
  await user.type(within(dialog).getByLabelText('Claim token'), 'wrong');
  await user.click(screen.getByTestId('claim-submit'));
  expect(await within(dialog).findByText('The claim token does not match this agent.')).toBeTruthy();
});

it('creates an enrolment token and shows its secret once', async () => {
  const user = userEvent.setup();
  const server = mockServer(
    me('admin'),
    empty('/api/agents'),
    at('GET', '/api/agents/enrollment-tokens', () => json([])),
    at('POST', '/api/agents/enrollment-tokens', () =>
      json({ id: 't1', name: 'rack 3', max_uses: 5, uses: 0, created_at: '2026-11-01T00:00:00Z', expires_at: '2026-11-03T00:00:00Z', token: 'sigma_enr_secret' }, 201),
    ),
  );
  renderPage(<Agents />, { path: '/agents' });
  await user.click(await screen.findByTestId('add-token'));
  const dialog = await screen.findByRole('dialog');
  await user.type(within(dialog).getByLabelText('Name'), 'rack 3');
  await user.clear(within(dialog).getByLabelText('Valid for (hours)'));
  await user.type(within(dialog).getByLabelText('Valid for (hours)'), '48');
  await user.clear(within(dialog).getByLabelText('Agents it may enrol'));
  await user.type(within(dialog).getByLabelText('Agents it may enrol'), '5');
  await user.click(screen.getByTestId('token-submit'));
  expect((await within(dialog).findByTestId('token-secret')).textContent).toBe('sigma_enr_secret');
  const post = server.calls.find((c) => c.method === 'POST')!;
  expect(await post.json()).toEqual({ name: 'rack 3', expires_in_hours: 48, max_uses: 5 });
});

it('tells active tokens from used, expired and revoked ones', () => {
  const now = new Date('2026-11-02T00:00:00Z');
  const tok = { id: 't', created_at: '', expires_at: '2026-11-03T00:00:00Z', max_uses: 2, uses: 1 };
  expect(tokenState(tok, now)).toBe('active');
  expect(tokenState({ ...tok, uses: 2 }, now)).toBe('used');
  expect(tokenState({ ...tok, expires_at: '2026-11-01T00:00:00Z' }, now)).toBe('expired');
  expect(tokenState({ ...tok, revoked_at: '2026-11-01T12:00:00Z' }, now)).toBe('revoked');
});
