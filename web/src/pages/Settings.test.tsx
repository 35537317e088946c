import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { connection } from '../api/client';
import { at, json, mockServer, renderPage } from '../test/render';
import Settings from './Settings';

const user = { id: 'u1', email: 'ops@example.com', role: 'operator', disabled: false, totp_enabled: false, created_at: '2026-01-01T00:00:00Z', updated_at: '2026-01-01T00:00:00Z' };

beforeEach(() => {
  localStorage.setItem('sigma.credential', JSON.stringify({ kind: 'session', token: 'a.b.c' }));
});
afterEach(() => {
  vi.unstubAllGlobals();
  localStorage.clear();
  connection.credential = null;
});

it('sets TOTP up with a QR code and shows the recovery codes', async () => {
  const u = userEvent.setup();
  let enabled = false;
  const server = mockServer(
    at('GET', '/healthz', () => json({ status: 'ok', version: '0.1.0', database: 'sqlite', database_reachable: true })),
    at('GET', '/api/auth/me', () => json({ kind: 'user', name: user.email, role: 'operator', user: { ...user, totp_enabled: enabled } })),
    at('POST', '/api/auth/totp/setup', () => json({ secret: 'JBSWY3DPEHPK3PXP', otpauth_uri: 'otpauth://totp/Sigma:ops@example.com?secret=JBSWY3DPEHPK3PXP&issuer=Sigma' })),
    at('POST', '/api/auth/totp/enable', async (req) => {
      const { code } = (await req.json()) as { code: string };
      if (code !== '654321') return json({ error: { code: 'validation_failed', message: 'bad', details: { fields: { code: 'is not the current code of this secret' } } } }, 400);
      enabled = true;
      return json({ recovery_codes: ['aaaa-bbbb-cccc', 'dddd-eeee-ffff'] });
    }),
  );
  renderPage(<Settings />, { path: '/settings' });
  await waitFor(() => expect(screen.getByTestId('profile-role').textContent).toBe('Operator'));
  await u.click(await screen.findByTestId('totp-setup'));
  const qr = await screen.findByTestId('totp-qr');
  expect(Number(qr.getAttribute('data-modules'))).toBeGreaterThanOrEqual(21);
  expect(qr.querySelector('path')?.getAttribute('d')?.length).toBeGreaterThan(100);
  expect(screen.getByTestId('totp-secret').textContent).toBe('JBSWY3DPEHPK3PXP');

  await u.type(screen.getByLabelText('Code from the app'), '111111');
  await u.click(screen.getByRole('button', { name: 'Turn on' }));
  expect(await screen.findByText('is not the current code of this secret')).toBeTruthy();
  await u.clear(screen.getByLabelText('Code from the app'));
  await u.type(screen.getByLabelText('Code from the app'), '654321');
  await u.click(screen.getByRole('button', { name: 'Turn on' }));
  const codes = await screen.findByTestId('recovery-codes');
  expect(codes.textContent).toContain('aaaa-bbbb-cccc');
  await screen.findByTestId('totp-on');
  expect(server.calls.filter((c) => c.method === 'POST').map((c) => new URL(c.url).pathname)).toEqual([
    '/api/auth/totp/setup',
    '/api/auth/totp/enable',
    '/api/auth/totp/enable',
  ]);
});

it('refuses a new password that does not match before asking the server, and shows a wrong current one', async () => {
  const u = userEvent.setup();
  const server = mockServer(
    at('GET', '/api/auth/me', () => json({ kind: 'user', name: user.email, role: 'operator', user })),
    at('POST', '/api/auth/password', () => json({ error: { code: 'invalid_credentials', message: 'the current password is wrong' } }, 401)),
  );
  renderPage(<Settings />, { path: '/settings' });
  await u.type(await screen.findByLabelText('Current password'), 'old password');
  await u.type(screen.getByLabelText('New password'), 'a new long password');
  await u.type(screen.getByLabelText('Repeat the new password'), 'something else');
  await u.click(screen.getByRole('button', { name: 'Change password' }));
  expect(await screen.findByText('The two passwords differ')).toBeTruthy();
  expect(server.calls.some((c) => c.method === 'POST')).toBe(false);

  await u.clear(screen.getByLabelText('Repeat the new password'));
  await u.type(screen.getByLabelText('Repeat the new password'), 'a new long password');
  await u.click(screen.getByRole('button', { name: 'Change password' }));
  expect(await screen.findByText('The current password is wrong')).toBeTruthy();
  await waitFor(() => expect(localStorage.getItem('sigma.credential')).not.toBeNull());
});
