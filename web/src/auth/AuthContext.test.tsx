import { render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { App, makeQueryClient } from '../App';
import { connection } from '../api/client';
import { json } from '../test/render';

beforeEach(() => {
  localStorage.clear();
  connection.credential = null;
  localStorage.setItem('sigma.lang', 'en');
});
afterEach(() => vi.unstubAllGlobals());

const stats = {
  total_vps: 0,
  retired_vps: 0,
  total_providers: 0,
  by_status: {},
  by_country: {},
  by_purpose: {},
  by_provider: [],
  expiring_7d: 0,
  expiring_30d: 0,
  monthly_cost: [],
  agents: { online: 0, offline: 0, pending: 0 },
};
const unauthorized = () => json({ error: { code: 'unauthorized', message: 'missing or invalid credentials' } }, 401);
const user = { id: 'u1', email: 'ops@example.com', role: 'admin', disabled: false, totp_enabled: true, created_at: '2026-01-01T00:00:00Z', updated_at: '2026-01-01T00:00:00Z' };

/** A server with one user (password and TOTP) and one API key. */
function server(accept: string) {
  const seen: { path: string; auth: string | null; body?: unknown }[] = [];
  const fetch = vi.fn(async (req: Request) => {
    const url = new URL(req.url);
    const body = req.method === 'POST' ? await req.clone().json().catch(() => undefined) : undefined;
    seen.push({ path: url.pathname, auth: req.headers.get('authorization'), body });
    if (url.pathname === '/healthz') return json({ status: 'ok', version: '0.1.0', database: 'sqlite', database_reachable: true });
    if (url.pathname === '/api/auth/login') {
      const b = body as { email: string; password: string; totp_code?: string };
      if (b.email !== 'ops@example.com' || b.password !== 'correct horse battery') {
        return json({ error: { code: 'invalid_credentials', message: 'wrong e-mail address, password or code' } }, 401);
      }
      if (!b.totp_code) return json({ error: { code: 'totp_required', message: 'send totp_code' } }, 401);
      if (b.totp_code !== '123456') return json({ error: { code: 'invalid_credentials', message: 'wrong code' } }, 401);
      return json({ access_token: 'header.claims.sig', token_type: 'Bearer', expires_in: 3600, user });
    }
    if (req.headers.get('authorization') !== `Bearer ${accept}`) return unauthorized();
    if (url.pathname === '/api/auth/logout') return new Response(null, { status: 204 });
    if (url.pathname === '/api/auth/me') return json({ kind: 'user', name: user.email, role: 'admin', user });
    if (url.pathname === '/api/stats') return json(stats);
    return json({ error: { code: 'not_found', message: 'no such route' } }, 404);
  });
  vi.stubGlobal('fetch', fetch);
  return seen;
}

it('signs in with e-mail, password and the TOTP code the server asks for, and sends the token from then on', async () => {
  const u = userEvent.setup();
  const seen = server('header.claims.sig');
  render(<App client={makeQueryClient()} />);
  await u.type(await screen.findByLabelText('E-mail address'), 'ops@example.com');
  await u.type(screen.getByLabelText('Password'), 'wrong password');
  await u.click(screen.getByRole('button', { name: 'Sign in' }));
  expect(await screen.findByText('Wrong e-mail address, password or code.')).toBeTruthy();

  await u.clear(screen.getByLabelText('Password'));
  await u.type(screen.getByLabelText('Password'), 'correct horse battery');
  await u.click(screen.getByRole('button', { name: 'Sign in' }));
  await u.type(await screen.findByLabelText('Authentication code'), '123456');
  await u.click(screen.getByRole('button', { name: 'Sign in' }));

  expect(await screen.findByText('Your fleet is empty')).toBeTruthy();
  const logins = seen.filter((s) => s.path === '/api/auth/login').map((s) => s.body);
  expect(logins).toEqual([
    { email: 'ops@example.com', password: 'wrong password' },
    { email: 'ops@example.com', password: 'correct horse battery' },
    { email: 'ops@example.com', password: 'correct horse battery', totp_code: '123456' },
  ]);
  await waitFor(() => expect(seen.filter((s) => s.path === '/api/stats').at(-1)?.auth).toBe('Bearer header.claims.sig'));
  expect(JSON.parse(localStorage.getItem('sigma.credential')!)).toEqual({ kind: 'session', token: 'header.claims.sig' });
  // The admin pages are in the navigation once the role is known.
  expect(await screen.findAllByRole('link', { name: 'Users' })).not.toHaveLength(0);

  // Signing out ends the session on the server and asks again.
  await u.click(screen.getByTestId('sign-out'));
  expect(await screen.findByLabelText('E-mail address')).toBeTruthy();
  expect(seen.some((s) => s.path === '/api/auth/logout' && s.auth === 'Bearer header.claims.sig')).toBe(true);
  expect(localStorage.getItem('sigma.credential')).toBeNull();
});

it('still takes an API key, as the other way in', async () => {
  const u = userEvent.setup();
  const seen = server('secret-key-0123456789');
  render(<App client={makeQueryClient()} />);
  await u.click(await screen.findByTestId('sign-in-mode'));
  await u.type(screen.getByLabelText('API key'), 'secret-key-0123456789');
  await u.click(screen.getByRole('button', { name: 'Sign in' }));
  expect(await screen.findByText('Your fleet is empty')).toBeTruthy();
  await waitFor(() => expect(seen.filter((s) => s.path === '/api/stats').at(-1)?.auth).toBe('Bearer secret-key-0123456789'));
  expect(seen.find((s) => s.path === '/api/stats')?.auth).toBeNull();
  expect(JSON.parse(localStorage.getItem('sigma.credential')!)).toEqual({ kind: 'api-key', secret: 'secret-key-0123456789' });
});

it('brings the sign-in page back when a saved token is refused', async () => {
  localStorage.setItem('sigma.credential', JSON.stringify({ kind: 'session', token: 'old.token.sig' }));
  server('header.claims.sig');
  render(<App client={makeQueryClient()} />);
  expect(await screen.findByText('Your session has ended. Sign in again.')).toBeTruthy();
  expect(screen.getByLabelText('E-mail address')).toBeTruthy();
});
