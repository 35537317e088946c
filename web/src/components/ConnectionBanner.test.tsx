import { screen, waitFor } from '@testing-library/react';
import { afterEach, expect, it, vi } from 'vitest';
import { json, renderPage } from '../test/render';
import { ConnectionBanner } from './ConnectionBanner';

afterEach(() => vi.unstubAllGlobals());

const health = { status: 'ok', version: '0.1.0', database: 'sqlite', database_reachable: true };

it('shows a lost server, then clears when it answers again', async () => {
  let up = false;
  vi.stubGlobal(
    'fetch',
    vi.fn(async () => {
      if (!up) throw new TypeError('Failed to fetch');
      return json(health);
    }),
  );
  const { client } = renderPage(<ConnectionBanner />);
  expect((await screen.findByTestId('connection-banner')).textContent).toContain('Cannot reach the Sigma server');
  up = true;
  await client.refetchQueries({ queryKey: ['health'] });
  await waitFor(() => expect(screen.queryByTestId('connection-banner')).toBeNull());
});

it('tells when the server is up but its database is not', async () => {
  vi.stubGlobal('fetch', vi.fn(async () => json({ ...health, status: 'unavailable', database_reachable: false }, 503)));
  renderPage(<ConnectionBanner />);
  expect((await screen.findByTestId('connection-banner')).textContent).toContain('cannot reach its database');
});
