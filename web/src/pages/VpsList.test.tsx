import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, expect, it, vi } from 'vitest';
import { at, json, mockServer, renderPage } from '../test/render';
import VpsList from './VpsList';

afterEach(() => vi.unstubAllGlobals());

const vps = {
  id: '01930000-0000-7000-8000-0000000000a1',
  hostname: 'tokyo-1',
  provider_id: '01930000-0000-7000-8000-000000000001',
  provider_name: 'DMIT',
  country: 'JP',
  ip_addresses: [{ ip: '103.1.2.3', label: 'china-telecom' }],
  ssh_port: 22,
  status: 'active',
  purpose: 'vpn-exit',
  tags: ['iplc'],
  currency: 'USD',
  billing_cycle: 'monthly',
  monthly_cost: '4.99',
  price: '4.99',
  auto_renew: false,
  monitoring_enabled: true,
  node_exporter_port: 9100,
  extra: {},
  source: 'manual',
  agent: { agent_id: '01930000-0000-7000-8000-0000000000b1', status: 'online' },
  created_at: '2026-11-01T00:00:00Z',
  updated_at: '2026-11-01T00:00:00Z',
};

it('reads its filters from the URL, sends them to the API and writes changes back', async () => {
  const user = userEvent.setup();
  const server = mockServer(
    at('GET', '/api/providers', () => json({ data: [], total: 0, page: 1, per_page: 500 })),
    at('GET', '/api/vps', () => json({ data: [vps], total: 1, page: 1, per_page: 25 })),
  );
  const { router } = renderPage(<VpsList />, { path: '/vps', url: '/vps?status=active&tag=iplc&sort=expire_date&order=desc' });
  expect(await screen.findAllByText('tokyo-1')).not.toHaveLength(0);
  const first = new URL(server.calls.find((r) => new URL(r.url).pathname === '/api/vps')!.url);
  expect(first.searchParams.getAll('status')).toEqual(['active']);
  expect(first.searchParams.getAll('tag')).toEqual(['iplc']);
  expect(first.searchParams.get('sort')).toBe('expire_date');
  expect(first.searchParams.get('order')).toBe('desc');
  expect(screen.getByTestId('status-filter-active').getAttribute('aria-pressed')).toBe('true');
  expect(screen.getAllByText('Agent online')).not.toHaveLength(0);

  await user.type(screen.getByLabelText('Search'), 'tok');
  await waitFor(() => expect(router.state.location.search).toContain('q=tok'));
  expect(router.state.location.search).toContain('status=active');
  await user.click(screen.getByTestId('status-filter-suspended'));
  await waitFor(() => expect(new URLSearchParams(router.state.location.search).getAll('status')).toEqual(['active', 'suspended']));
  expect(router.state.location.search).toContain('q=tok');
  await waitFor(() => {
    const last = new URL(server.calls.filter((r) => new URL(r.url).pathname === '/api/vps').at(-1)!.url);
    expect(last.searchParams.get('q')).toBe('tok');
    expect(last.searchParams.getAll('status')).toEqual(['active', 'suspended']);
  });
});

it('offers to add the first VPS when there is none', async () => {
  mockServer(
    at('GET', '/api/providers', () => json({ data: [], total: 0, page: 1, per_page: 500 })),
    at('GET', '/api/vps', () => json({ data: [], total: 0, page: 1, per_page: 25 })),
  );
  renderPage(<VpsList />, { path: '/vps' });
  expect(await screen.findByText('No VPS yet')).toBeTruthy();
  expect(screen.getAllByRole('link', { name: 'Add VPS' })).toHaveLength(2);
});
