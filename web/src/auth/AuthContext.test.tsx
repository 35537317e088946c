import { render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, expect, it, vi } from 'vitest';
import { App, makeQueryClient } from '../App';
import { json } from '../test/render';

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

it('asks for the API key on 401 and sends it as a Bearer token from then on', async () => {
  const user = userEvent.setup();
  const seen: (string | null)[] = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (req: Request) => {
      const url = new URL(req.url);
      if (url.pathname === '/healthz') return json({ status: 'ok', version: '0.1.0', database: 'sqlite', database_reachable: true });
      seen.push(req.headers.get('authorization'));
      if (req.headers.get('authorization') !== 'Bearer secret-key-0123456789') {
        return json({ error: { code: 'unauthorized', message: 'missing or invalid credentials' } }, 401);
      }
      return json(stats);
    }),
  );
  localStorage.setItem('sigma.lang', 'en');
  render(<App client={makeQueryClient()} />);
  await user.type(await screen.findByLabelText('API key'), 'secret-key-0123456789');
  await user.click(screen.getByRole('button', { name: 'Sign in' }));
  expect(await screen.findByText('Your fleet is empty')).toBeTruthy();
  await waitFor(() => expect(seen.at(-1)).toBe('Bearer secret-key-0123456789'));
  expect(seen[0]).toBeNull();
  expect(JSON.parse(localStorage.getItem('sigma.credential')!)).toEqual({ kind: 'api-key', secret: 'secret-key-0123456789' });
});
