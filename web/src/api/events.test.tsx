import { screen, waitFor } from '@testing-library/react';
import { QueryClient } from '@tanstack/react-query';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { at, json, mockServer, renderPage } from '../test/render';
import VpsList from '../pages/VpsList';
import { applyFleetEvent, parseSse, useFleetEvents } from './events';
import type { Vps } from './types';

afterEach(() => vi.unstubAllGlobals());

describe('parseSse', () => {
  it('splits complete messages and keeps the unfinished tail', () => {
    const first = parseSse(': keep-alive\n\nevent: agent-status\ndata: {"a":1}\n\nevent: agent-heart');
    expect(first.messages).toEqual([{ event: 'agent-status', data: '{"a":1}' }]);
    const second = parseSse(`${first.rest}beat\r\ndata: {"b":\r\ndata: 2}\r\n\r\n`);
    expect(second.messages).toEqual([{ event: 'agent-heartbeat', data: '{"b":\n2}' }]);
    expect(second.rest).toBe('');
  });
});

const vps = {
  id: 'v1',
  hostname: 'tokyo-1',
  provider_id: 'p1',
  provider_name: 'DMIT',
  country: 'JP',
  ip_addresses: [{ ip: '103.1.2.3', label: 'china-telecom' }],
  ssh_port: 22,
  status: 'active',
  purpose: 'vpn-exit',
  tags: [],
  currency: 'USD',
  billing_cycle: 'monthly',
  auto_renew: false,
  monitoring_enabled: true,
  node_exporter_port: 9100,
  extra: {},
  source: 'manual',
  agent: { agent_id: 'a1', status: 'online' },
  created_at: '2026-11-01T00:00:00Z',
  updated_at: '2026-11-01T00:00:00Z',
} as unknown as Vps;

describe('applyFleetEvent', () => {
  it('changes the agent status of the VPS in every cached list and page', () => {
    const qc = new QueryClient();
    qc.setQueryData(['vps', 'list', { page: 1 }], { data: [vps, { ...vps, id: 'v2', agent: null }], total: 2 });
    qc.setQueryData(['vps', 'one', 'v1'], { data: vps, etag: '"1"' });
    applyFleetEvent(qc, { type: 'agent-status', agent_id: 'a1', vps_id: 'v1', hostname: 'tokyo-1', status: 'offline', at: '2026-11-02T00:00:00Z' });
    const list = qc.getQueryData<{ data: Vps[] }>(['vps', 'list', { page: 1 }])!;
    expect(list.data.map((v) => v.agent?.status ?? null)).toEqual(['offline', null]);
    expect(qc.getQueryData<{ data: Vps; etag: string }>(['vps', 'one', 'v1'])).toMatchObject({ data: { agent: { status: 'offline' } }, etag: '"1"' });
  });

  it('puts the metrics of a heartbeat on the VPS page', () => {
    const qc = new QueryClient();
    qc.setQueryData(['vps', 'one', 'v1'], { data: vps, etag: null });
    applyFleetEvent(qc, {
      type: 'agent-heartbeat',
      agent_id: 'a1',
      vps_id: 'v1',
      at: '2026-11-02T00:00:05Z',
      cpu_percent: 12.5,
      load: { one: 0.1, five: 0.2, fifteen: 0.3 },
      memory: { used: 1, total: 2 },
    } as never);
    const agent = qc.getQueryData<{ data: Vps }>(['vps', 'one', 'v1'])!.data.agent!;
    expect(agent.last_heartbeat_at).toBe('2026-11-02T00:00:05Z');
    expect((agent.metrics as unknown as { cpu_percent: number }).cpu_percent).toBe(12.5);
  });
});

function Live() {
  useFleetEvents();
  return <VpsList />;
}

it('updates the status dot of the list from the event stream, without reloading', async () => {
  let push: (text: string) => void = () => undefined;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      push = (text) => controller.enqueue(new TextEncoder().encode(text));
    },
  });
  const server = mockServer(
    at('GET', '/api/providers', () => json({ data: [], total: 0, page: 1, per_page: 500 })),
    at('GET', '/api/vps', () => json({ data: [vps], total: 1, page: 1, per_page: 25 })),
    at('GET', '/api/events', () => new Response(body, { headers: { 'content-type': 'text/event-stream' } })),
  );
  renderPage(<Live />, { path: '/vps' });
  const row = await screen.findByTestId('vps-row');
  expect(row.querySelector('[data-agent-status]')?.getAttribute('data-agent-status')).toBe('online');
  await waitFor(() => expect(server.calls.some((c) => new URL(c.url).pathname === '/api/events')).toBe(true));
  push('event: agent-status\ndata: {"type":"agent-status","agent_id":"a1","vps_id":"v1","hostname":"tokyo-1","status":"offline","at":"2026-11-02T00:00:00Z"}\n\n');
  await waitFor(() => expect(screen.getByTestId('vps-row').querySelector('[data-agent-status]')?.getAttribute('data-agent-status')).toBe('offline'));
  expect(server.calls.filter((c) => new URL(c.url).pathname === '/api/vps')).toHaveLength(1);
});
