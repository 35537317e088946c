// Live fleet events from `GET /api/events` (Server-Sent Events), applied to
// the cached API answers so that lists and pages change without a reload.
//
// The stream is read with fetch rather than EventSource: EventSource cannot
// send the Authorization header, and a credential in the URL would end up in
// proxy and access logs. fetch sends the same header as every other call.
import { useEffect } from 'react';
import { useQueryClient, type QueryClient } from '@tanstack/react-query';
import { useAuth } from '../auth/AuthContext';
import { authorizationHeader, connection } from './client';
import type { Versioned } from './hooks';
import type { Agent, AgentStatus, FleetEvent, Vps } from './types';

export interface SseMessage {
  event: string;
  data: string;
}

/**
 * Splits a Server-Sent Events text into its complete messages; `rest` is
 * the unfinished tail to prepend to the next chunk. Comments (`:`) and
 * fields other than `event` and `data` are ignored.
 */
export function parseSse(text: string): { messages: SseMessage[]; rest: string } {
  const normalized = text.replace(/\r\n?/g, '\n');
  const blocks = normalized.split('\n\n');
  const rest = blocks.pop() ?? '';
  const messages: SseMessage[] = [];
  for (const block of blocks) {
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line === '' || line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length > 0) messages.push({ event, data: data.join('\n') });
  }
  return { messages, rest };
}

interface Page<T> {
  data: T[];
}

function withAgent(v: Vps, agentId: string, change: Partial<NonNullable<Vps['agent']>>): Vps {
  const agent = v.agent ?? { agent_id: agentId, status: 'pending' as AgentStatus, last_heartbeat_at: null };
  return { ...v, agent: { ...agent, ...change } };
}

/** Applies one event to every cached answer it concerns. */
export function applyFleetEvent(qc: QueryClient, e: FleetEvent) {
  const patchVps = (vpsId: string, agentId: string, change: Partial<NonNullable<Vps['agent']>>) => {
    qc.setQueriesData<Page<Vps>>({ queryKey: ['vps', 'list'] }, (page) =>
      page && { ...page, data: page.data.map((v) => (v.id === vpsId ? withAgent(v, agentId, change) : v)) },
    );
    qc.setQueryData<Versioned<Vps>>(['vps', 'one', vpsId], (one) => one && { ...one, data: withAgent(one.data, agentId, change) });
  };
  const patchAgent = (agentId: string, change: Partial<Agent>) =>
    qc.setQueryData<Page<Agent>>(['agents'], (page) =>
      page && { ...page, data: page.data.map((a) => (a.id === agentId ? { ...a, ...change } : a)) },
    );

  switch (e.type) {
    case 'agent-status':
      if (e.vps_id) patchVps(e.vps_id, e.agent_id, { status: e.status });
      patchAgent(e.agent_id, { status: e.status, status_changed_at: e.at });
      void qc.invalidateQueries({ queryKey: ['stats'] });
      break;
    case 'agent-heartbeat': {
      const metrics = { cpu_percent: e.cpu_percent, load: e.load, memory: e.memory };
      if (e.vps_id) {
        qc.setQueryData<Versioned<Vps>>(['vps', 'one', e.vps_id], (one) => {
          if (!one) return one;
          const old = (one.data.agent?.metrics ?? {}) as Record<string, unknown>;
          const merged = { ...old, ...metrics } as unknown as NonNullable<Vps['agent']>['metrics'];
          return { ...one, data: withAgent(one.data, e.agent_id, { last_heartbeat_at: e.at, metrics: merged }) };
        });
      }
      patchAgent(e.agent_id, { last_heartbeat_at: e.at });
      break;
    }
    case 'agent-changed':
    case 'vps-changed':
      void qc.invalidateQueries({ queryKey: ['agents'] });
      void qc.invalidateQueries({ queryKey: ['vps'] });
      void qc.invalidateQueries({ queryKey: ['stats'] });
      break;
  }
}

const RETRY_MS = 3_000;

/**
 * Keeps one event stream open while the app is shown, reconnecting after
 * a dropped connection; a 401 asks for credentials like any other call.
 */
export function useFleetEvents() {
  const qc = useQueryClient();
  const { credential } = useAuth();

  useEffect(() => {
    const abort = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const sleep = () => new Promise<void>((r) => (timer = setTimeout(r, RETRY_MS)));

    async function run() {
      while (!abort.signal.aborted) {
        try {
          const header = authorizationHeader();
          const response = await globalThis.fetch(new Request(new URL('/api/events', window.location.origin), {
            headers: { Accept: 'text/event-stream', ...(header ? { Authorization: header } : {}) },
            signal: abort.signal,
          }));
          if (response.status === 401) {
            connection.unauthorized();
            return;
          }
          if (response.ok && response.body) await read(response.body);
        } catch {
          // A dropped connection: try again shortly.
        }
        if (!abort.signal.aborted) await sleep();
      }
    }

    async function read(body: ReadableStream<Uint8Array>) {
      const reader = body.getReader();
      const decoder = new TextDecoder();
      let buffer = '';
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        const { messages, rest } = parseSse(buffer + decoder.decode(value, { stream: true }));
        buffer = rest;
        for (const m of messages) {
          try {
            applyFleetEvent(qc, JSON.parse(m.data) as FleetEvent);
          } catch {
            // An event this UI does not understand is skipped.
          }
        }
      }
    }

    void run();
    return () => {
      abort.abort();
      clearTimeout(timer);
    };
  }, [qc, credential]);
}
