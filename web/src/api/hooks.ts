// Every call the UI makes, as TanStack Query hooks over the typed client.
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from './client';
import { ApiError, unwrap } from './errors';
import type { AuditQuery, Provider, ProviderCreate, Vps, VpsCreate, VpsListQuery, VpsPatch } from './types';

export const keys = {
  stats: ['stats'] as const,
  health: ['health'] as const,
  providers: (q?: string) => ['providers', q ?? ''] as const,
  vpsList: (q: VpsListQuery) => ['vps', 'list', q] as const,
  vps: (id: string) => ['vps', 'one', id] as const,
  vpsHistory: (id: string) => ['vps', 'history', id] as const,
  ipHistory: (ip: string) => ['ip-history', ip] as const,
  audit: (q: AuditQuery) => ['audit', q] as const,
};

export function useStats() {
  return useQuery({ queryKey: keys.stats, queryFn: async () => unwrap(await api.GET('/api/stats')) });
}

/** Polls /healthz: the banner that says the server is unreachable reads it. */
export function useHealth(intervalMs = 10_000) {
  return useQuery({
    queryKey: keys.health,
    queryFn: async () => {
      const r = await api.GET('/healthz');
      // 503 still carries the health body: the database is down, the server is up.
      if (r.data) return r.data;
      if (r.response.status === 503 && r.error) return r.error as unknown as NonNullable<typeof r.data>;
      throw new ApiError(r.response.status, undefined, r.response.statusText);
    },
    refetchInterval: intervalMs,
    refetchIntervalInBackground: false,
    retry: false,
  });
}

export function useProviders(q?: string) {
  return useQuery({
    queryKey: keys.providers(q),
    queryFn: async () =>
      unwrap(await api.GET('/api/providers', { params: { query: { q: q || undefined, per_page: 500 } } })),
    placeholderData: keepPreviousData,
  });
}

export function useVpsList(query: VpsListQuery) {
  return useQuery({
    queryKey: keys.vpsList(query),
    queryFn: async () => unwrap(await api.GET('/api/vps', { params: { query } })),
    placeholderData: keepPreviousData,
  });
}

export interface Versioned<T> {
  data: T;
  etag: string | null;
}

export function useVps(id: string) {
  return useQuery({
    queryKey: keys.vps(id),
    queryFn: async (): Promise<Versioned<Vps>> => {
      const r = await api.GET('/api/vps/{id}', { params: { path: { id } } });
      return { data: unwrap(r), etag: r.response.headers.get('etag') };
    },
  });
}

export function useVpsIpHistory(id: string) {
  return useQuery({
    queryKey: keys.vpsHistory(id),
    queryFn: async () => unwrap(await api.GET('/api/vps/{id}/ip-history', { params: { path: { id } } })),
  });
}

export function useIpHistory(ip: string) {
  return useQuery({
    queryKey: keys.ipHistory(ip),
    queryFn: async () => unwrap(await api.GET('/api/ip-history', { params: { query: { ip } } })),
    enabled: ip.length > 0,
    retry: false,
  });
}

/** Recorded changes, newest first (admins only once users exist). */
export function useAuditLog(query: AuditQuery) {
  return useQuery({
    queryKey: keys.audit(query),
    queryFn: async () => unwrap(await api.GET('/api/audit-logs', { params: { query } })),
    placeholderData: keepPreviousData,
  });
}

function useInvalidate() {
  const qc = useQueryClient();
  return () =>
    Promise.all([
      qc.invalidateQueries({ queryKey: ['vps'] }),
      qc.invalidateQueries({ queryKey: keys.stats }),
      qc.invalidateQueries({ queryKey: ['providers'] }),
      qc.invalidateQueries({ queryKey: ['ip-history'] }),
      qc.invalidateQueries({ queryKey: ['audit'] }),
    ]);
}

export function useCreateVps() {
  const invalidate = useInvalidate();
  return useMutation({
    mutationFn: async (body: VpsCreate) => unwrap(await api.POST('/api/vps', { body })),
    onSuccess: invalidate,
  });
}

export function useUpdateVps(id: string) {
  const invalidate = useInvalidate();
  return useMutation({
    mutationFn: async ({ body, etag }: { body: VpsPatch; etag?: string | null }) =>
      unwrap(
        await api.PATCH('/api/vps/{id}', {
          params: { path: { id }, header: etag ? { 'If-Match': etag } : {} },
          body,
        }),
      ),
    onSuccess: invalidate,
  });
}

/** Runs one VPS action on many VPS; answers the ids that failed with why. */
export function useBulkVpsAction() {
  const invalidate = useInvalidate();
  return useMutation({
    mutationFn: async ({ ids, run }: { ids: string[]; run: (id: string) => Promise<unknown> }) => {
      const results = await Promise.allSettled(ids.map(run));
      return results.flatMap((r, i) =>
        r.status === 'rejected' ? [{ id: ids[i] ?? '', error: r.reason as Error }] : [],
      );
    },
    onSettled: invalidate,
  });
}

export const vpsActions = {
  retire: async (id: string) => unwrap(await api.POST('/api/vps/{id}/retire', { params: { path: { id } } })),
  restore: async (id: string) => unwrap(await api.POST('/api/vps/{id}/restore', { params: { path: { id } } })),
  trash: async (id: string) => {
    const r = await api.DELETE('/api/vps/{id}', { params: { path: { id } } });
    if (!r.response.ok) unwrap(r);
  },
  purge: async (id: string) => {
    const r = await api.DELETE('/api/vps/{id}', { params: { path: { id }, query: { purge: true } } });
    if (!r.response.ok) unwrap(r);
  },
  addTags: async (vps: Vps, tags: string[]) => {
    const merged = [...vps.tags, ...tags.filter((t) => !vps.tags.includes(t))];
    return unwrap(await api.PATCH('/api/vps/{id}', { params: { path: { id: vps.id } }, body: { tags: merged } }));
  },
};

export function useVpsAction(action: (id: string) => Promise<unknown>) {
  const invalidate = useInvalidate();
  return useMutation({ mutationFn: action, onSuccess: invalidate });
}

export function useSaveProvider() {
  const invalidate = useInvalidate();
  return useMutation({
    mutationFn: async ({ id, body }: { id?: string; body: ProviderCreate }): Promise<Provider> =>
      id
        ? unwrap(await api.PATCH('/api/providers/{id}', { params: { path: { id } }, body }))
        : unwrap(await api.POST('/api/providers', { body })),
    onSuccess: invalidate,
  });
}

export function useDeleteProvider() {
  const invalidate = useInvalidate();
  return useMutation({
    mutationFn: async (id: string) => {
      const r = await api.DELETE('/api/providers/{id}', { params: { path: { id } } });
      if (!r.response.ok) unwrap(r);
    },
    onSuccess: invalidate,
  });
}
