import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, expect, it, vi } from 'vitest';
import { at, json, mockServer, renderPage } from '../test/render';
import VpsFormPage from './VpsForm';

afterEach(() => vi.unstubAllGlobals());

const provider = {
  id: '01930000-0000-7000-8000-000000000001',
  name: 'DMIT',
  api_supported: false,
  created_at: '2026-01-01T00:00:00Z',
  updated_at: '2026-01-01T00:00:00Z',
  vps_count: 0,
  active_vps_count: 0,
};
const providers = at('GET', '/api/providers', () => json({ data: [provider], total: 1, page: 1, per_page: 500 }));

it('shows the server’s validation errors on their fields, with the address row the server counted', async () => {
  const user = userEvent.setup();
  const server = mockServer(
    providers,
    at('POST', '/api/vps', () =>
      json(
        {
          error: {
            code: 'validation_failed',
            message: '2 fields are invalid',
            details: {
              fields: {
                country: 'must be an ISO 3166-1 alpha-2 country code such as JP',
                'ip_addresses[1].ip': '"999.1.1.1" is not an IPv4 or IPv6 address',
              },
            },
          },
        },
        400,
      ),
    ),
  );
  renderPage(<VpsFormPage />, { path: '/vps/new' });
  // The only provider is chosen by itself.
  await waitFor(() => expect((screen.getByLabelText('Provider') as HTMLSelectElement).value).toBe(provider.id));

  await user.type(screen.getByLabelText('Host name'), 'tokyo-1');
  await user.type(screen.getByLabelText('Country'), 'XX1');
  await user.type(screen.getByLabelText('Address 1'), '103.1.2.3');
  await user.click(screen.getByRole('button', { name: 'Add address' }));
  await user.click(screen.getByRole('button', { name: 'Add address' }));
  // Row 2 is left empty, so the server's ip_addresses[1] is the form's row 3.
  await user.type(screen.getByLabelText('Address 3'), '999.1.1.1');
  await user.selectOptions(screen.getAllByLabelText('Network')[0]!, 'china-telecom');
  await user.click(screen.getByRole('button', { name: 'Create VPS' }));

  const country = await screen.findByLabelText('Country');
  await waitFor(() => expect(country.getAttribute('aria-invalid')).toBe('true'));
  expect(screen.getByText('must be an ISO 3166-1 alpha-2 country code such as JP')).toBeTruthy();
  expect(screen.getByLabelText('Address 3').getAttribute('aria-invalid')).toBe('true');
  expect(screen.getByLabelText('Address 1').getAttribute('aria-invalid')).toBeNull();

  const post = server.calls.find((r) => r.method === 'POST')!;
  const body = await post.json();
  expect(body).toMatchObject({
    hostname: 'tokyo-1',
    provider_id: provider.id,
    country: 'XX1',
    ip_addresses: [
      { ip: '103.1.2.3', label: 'china-telecom' },
      { ip: '999.1.1.1', label: null },
    ],
  });
});

it('asks for the required fields before sending anything', async () => {
  const user = userEvent.setup();
  const server = mockServer(providers);
  renderPage(<VpsFormPage />, { path: '/vps/new' });
  await user.click(await screen.findByRole('button', { name: 'Create VPS' }));
  await waitFor(() => expect(screen.getAllByText('Required')).toHaveLength(2));
  expect(screen.getByLabelText('Host name').getAttribute('aria-invalid')).toBe('true');
  expect(screen.getByLabelText('Country').getAttribute('aria-invalid')).toBe('true');
  expect(server.calls.some((r) => r.method === 'POST')).toBe(false);
});
