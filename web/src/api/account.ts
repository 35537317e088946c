// Calls of the pages for the signed-in account, agents, users and API keys,
// as TanStack Query hooks over the typed client.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from './client';
import { unwrap } from './errors';
import type { AgentClaim, ApiKeyCreate, EnrollmentTokenCreate, UserCreate, UserPatch } from './types';

export const accountKeys = {
  me: ['me'] as const,
  agents: ['agents'] as const,
  tokens: ['enrollment-tokens'] as const,
  users: ['users'] as const,
  apiKeys: ['api-keys'] as const,
};

/** An answer without a body (204): throws the error answer, if any. */
function noContent(r: { error?: unknown; response: Response }) {
  if (!r.response.ok) unwrap(r);
}

/** Who the UI acts as, and with which role. */
export function useMe() {
  return useQuery({
    queryKey: accountKeys.me,
    queryFn: async () => unwrap(await api.GET('/api/auth/me')),
    staleTime: 60_000,
  });
}

export function useChangePassword() {
  return useMutation({
    mutationFn: async (body: { current_password: string; new_password: string }) =>
      noContent(await api.POST('/api/auth/password', { body })),
  });
}

export function useTotpSetup() {
  return useMutation({ mutationFn: async () => unwrap(await api.POST('/api/auth/totp/setup')) });
}

export function useTotpEnable() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: async (code: string) => unwrap(await api.POST('/api/auth/totp/enable', { body: { code } })),
    onSuccess: () => qc.invalidateQueries({ queryKey: accountKeys.me }),
  });
}

export function useTotpDisable() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: async (code: string) => unwrap(await api.POST('/api/auth/totp/disable', { body: { code } })),
    onSuccess: () => qc.invalidateQueries({ queryKey: accountKeys.me }),
  });
}

/** Every agent, claimed or waiting to be claimed. */
export function useAgents() {
  return useQuery({
    queryKey: accountKeys.agents,
    queryFn: async () => unwrap(await api.GET('/api/agents', { params: { query: { per_page: 500 } } })),
  });
}

/** After a change to agents: the agents, and the VPS they report for. */
function useAgentsChanged() {
  const qc = useQueryClient();
  return () =>
    Promise.all([
      qc.invalidateQueries({ queryKey: accountKeys.agents }),
      qc.invalidateQueries({ queryKey: ['vps'] }),
      qc.invalidateQueries({ queryKey: ['stats'] }),
    ]);
}

export function useClaimAgent() {
  const changed = useAgentsChanged();
  return useMutation({
    mutationFn: async (body: AgentClaim) => unwrap(await api.POST('/api/agents/claim', { body })),
    onSuccess: changed,
  });
}

export function useDeleteAgent() {
  const changed = useAgentsChanged();
  return useMutation({
    mutationFn: async (id: string) => noContent(await api.DELETE('/api/agents/{id}', { params: { path: { id } } })),
    onSuccess: changed,
  });
}

export function useRotateAgentKey() {
  const changed = useAgentsChanged();
  return useMutation({
    mutationFn: async (id: string) => unwrap(await api.POST('/api/agents/{id}/rotate-key', { params: { path: { id } } })),
    onSuccess: changed,
  });
}

export function useEnrollmentTokens() {
  return useQuery({
    queryKey: accountKeys.tokens,
    queryFn: async () => unwrap(await api.GET('/api/agents/enrollment-tokens')),
  });
}

export function useCreateEnrollmentToken() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: async (body: EnrollmentTokenCreate) => unwrap(await api.POST('/api/agents/enrollment-tokens', { body })),
    onSuccess: () => qc.invalidateQueries({ queryKey: accountKeys.tokens }),
  });
}

export function useRevokeEnrollmentToken() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: async (id: string) =>
      noContent(await api.DELETE('/api/agents/enrollment-tokens/{id}', { params: { path: { id } } })),
    onSuccess: () => qc.invalidateQueries({ queryKey: accountKeys.tokens }),
  });
}

export function useUsers() {
  return useQuery({
    queryKey: accountKeys.users,
    queryFn: async () => unwrap(await api.GET('/api/users', { params: { query: { per_page: 500 } } })),
  });
}

export function useSaveUser() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: async ({ id, create, patch }: { id?: string; create?: UserCreate; patch?: UserPatch }) =>
      id
        ? unwrap(await api.PATCH('/api/users/{id}', { params: { path: { id } }, body: patch ?? {} }))
        : unwrap(await api.POST('/api/users', { body: create ?? {} })),
    onSuccess: () => qc.invalidateQueries({ queryKey: accountKeys.users }),
  });
}

export function useDeleteUser() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: async (id: string) => noContent(await api.DELETE('/api/users/{id}', { params: { path: { id } } })),
    onSuccess: () => qc.invalidateQueries({ queryKey: accountKeys.users }),
  });
}

export function useApiKeys() {
  return useQuery({
    queryKey: accountKeys.apiKeys,
    queryFn: async () => unwrap(await api.GET('/api/api-keys', { params: { query: { per_page: 500, all: true } } })),
  });
}

export function useCreateApiKey() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: async (body: ApiKeyCreate) => unwrap(await api.POST('/api/api-keys', { body })),
    onSuccess: () => qc.invalidateQueries({ queryKey: accountKeys.apiKeys }),
  });
}

export function useDeleteApiKey() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: async (id: string) => noContent(await api.DELETE('/api/api-keys/{id}', { params: { path: { id } } })),
    onSuccess: () => qc.invalidateQueries({ queryKey: accountKeys.apiKeys }),
  });
}
