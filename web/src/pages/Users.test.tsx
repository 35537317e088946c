import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, expect, it, vi } from 'vitest';
import { at, json, mockServer, renderPage } from '../test/render';
import Users from './Users';
import ApiKeys from './ApiKeys';

afterEach(() => vi.unstubAllGlobals());

const u = (id: string, email: string, role: string) => ({ id, email, role, disabled: false, totp_enabled: false, created_at: '2026-01-01T00:00:00Z', updated_at: '2026-01-01T00:00:00Z' });

it('changes the role of another user but not one’s own, and shows field errors of a new user', async () => {
  const user = userEvent.setup();
  const server = mockServer(
    at('GET', '/api/auth/me', () => json({ kind: 'user', name: 'admin@example.com', role: 'admin', user: u('u1', 'admin@example.com', 'admin') })),
    at('GET', '/api/users', () => json({ data: [u('u1', 'admin@example.com', 'admin'), u('u2', 'ops@example.com', 'operator')], total: 2, page: 1, per_page: 500 })),
    at('PATCH', '/api/users/u2', () => json(u('u2', 'ops@example.com', 'readonly'))),
    at('POST', '/api/users', () => json({ error: { code: 'validation_failed', message: 'invalid', details: { fields: { password: 'must be at least 10 characters' } } } }, 400)),
  );
  renderPage(<Users />, { path: '/users' });
  const rows = await screen.findAllByTestId('user-row');
  await waitFor(() => expect((within(rows[0]!).getByLabelText('Role') as HTMLSelectElement).disabled).toBe(true));
  await user.selectOptions(within(rows[1]!).getByLabelText('Role'), 'readonly');
  await waitFor(() => expect(server.calls.some((c) => c.method === 'PATCH')).toBe(true));
  expect(await server.calls.find((c) => c.method === 'PATCH')!.json()).toEqual({ role: 'readonly' });

  await user.click(screen.getByTestId('add-user'));
  const dialog = await screen.findByRole('dialog');
  await user.type(within(dialog).getByLabelText('E-mail address'), 'new@example.com');
  await user.type(within(dialog).getByLabelText('Password'), 'short');
  await user.click(screen.getByTestId('save-user'));
  expect(await within(dialog).findByText('must be at least 10 characters')).toBeTruthy();
});

it('creates an API key and shows the key once', async () => {
  const user = userEvent.setup();
  const server = mockServer(
    at('GET', '/api/api-keys', () => json({ data: [], total: 0, page: 1, per_page: 500 })),
    at('POST', '/api/api-keys', () => json({ key: 'sigma_key_0123456789abcdef', api_key: { id: 'k1', name: 'ansible', prefix: 'sigma_key_01', role: 'readonly', created_at: '2026-01-01T00:00:00Z' } }, 201)),
  );
  renderPage(<ApiKeys />, { path: '/api-keys' });
  await user.click(await screen.findByTestId('add-key'));
  const dialog = await screen.findByRole('dialog');
  await user.type(within(dialog).getByLabelText('Name'), 'ansible');
  await user.click(screen.getByTestId('save-key'));
  expect((await within(dialog).findByTestId('key-secret')).textContent).toBe('sigma_key_0123456789abcdef');
  const list = server.calls.find((c) => c.method === 'GET')!;
  expect(new URL(list.url).searchParams.get('all')).toBe('true');
  expect(await server.calls.find((c) => c.method === 'POST')!.json()).toEqual({ name: 'ansible', role: 'readonly', expires_at: null });
});
