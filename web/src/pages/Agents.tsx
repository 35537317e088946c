import { useState } from 'react';
import { Link } from 'react-router';
import { useForm, useWatch } from 'react-hook-form';
import { Link2, Plus, RotateCw, Trash2 } from 'lucide-react';
import {
  useAgents,
  useClaimAgent,
  useCreateEnrollmentToken,
  useDeleteAgent,
  useEnrollmentTokens,
  useMe,
  useRevokeEnrollmentToken,
  useRotateAgentKey,
} from '../api/account';
import { PURPOSES } from '../api/enums';
import { ApiError, formFieldName } from '../api/errors';
import { useProviders, useVpsList } from '../api/hooks';
import type { Agent, EnrollmentToken, Purpose } from '../api/types';
import { AgentDot } from '../components/badges';
import { ConfirmDialog, Dialog } from '../components/Dialog';
import { Field } from '../components/Field';
import { SecretOnce } from '../components/SecretOnce';
import { EmptyState, ErrorState, Loading, PageHeader } from '../components/states';
import { useI18n } from '../i18n';
import { formatDateTime } from '../lib/format';

interface ClaimForm {
  agent_id: string;
  claim_token: string;
  vps_id: string;
  provider_id: string;
  country: string;
  purpose: Purpose | '';
}

/** Puts the server's field errors on their fields; answers the rest as one message. */
function serverErrors(e: unknown, setError: (field: never, error: { message: string }) => void, fields: readonly string[]): string | null {
  if (e instanceof ApiError) {
    const known = Object.entries(e.fields).filter(([f]) => fields.includes(formFieldName(f)));
    known.forEach(([f, message]) => setError(formFieldName(f) as never, { message }));
    if (known.length > 0) return null;
  }
  return e instanceof Error ? e.message : String(e);
}

export function ClaimDialog({ agent, onClose }: { agent?: Agent; onClose: () => void }) {
  const { t } = useI18n();
  const claim = useClaimAgent();
  const vps = useVpsList({ per_page: 500, sort: 'hostname', order: 'asc' });
  const providers = useProviders();
  const [error, setFormError] = useState<string | null>(null);
  const { register, handleSubmit, formState, setError, control } = useForm<ClaimForm>({
    defaultValues: { agent_id: agent?.id ?? '', claim_token: '', vps_id: '', provider_id: '', country: '', purpose: '' },
  });
  const linkTo = useWatch({ control, name: 'vps_id' });
  const submit = handleSubmit(async (v) => {
    setFormError(null);
    try {
      await claim.mutateAsync({
        agent_id: v.agent_id.trim(),
        claim_token: v.claim_token.trim(),
        vps_id: v.vps_id || null,
        provider_id: v.vps_id ? null : v.provider_id || null,
        country: v.vps_id ? null : v.country.trim().toUpperCase() || null,
        purpose: v.vps_id ? null : v.purpose || null,
      });
      onClose();
    } catch (e) {
      setFormError(
        e instanceof ApiError && e.status === 403
          ? t('agents.badClaimToken')
          : serverErrors(e, setError as never, ['agent_id', 'claim_token', 'vps_id', 'provider_id', 'country', 'purpose']),
      );
    }
  });
  return (
    <Dialog
      open
      title={agent ? t('agents.claimTitle', { name: agent.hostname }) : t('agents.claim')}
      onClose={onClose}
      footer={
        <>
          <button type="button" className="btn-secondary" onClick={onClose}>
            {t('common.cancel')}
          </button>
          <button type="submit" form="claim-form" className="btn-primary" disabled={claim.isPending} data-testid="claim-submit">
            {t('agents.claim')}
          </button>
        </>
      }
    >
      <form id="claim-form" className="space-y-4" onSubmit={submit} noValidate>
        <p className="text-sm text-slate-500 dark:text-slate-400">{t('agents.claimBody')}</p>
        {error && (
          <p role="alert" className="rounded-lg bg-rose-50 px-3 py-2 text-sm text-rose-700 dark:bg-rose-500/10 dark:text-rose-300">
            {error}
          </p>
        )}
        <Field label={t('agents.agentId')} error={formState.errors.agent_id?.message}>
          <input autoComplete="off" {...register('agent_id', { required: t('form.required') })} />
        </Field>
        <Field label={t('agents.claimToken')} error={formState.errors.claim_token?.message} hint={t('agents.claimTokenHint')}>
          <input autoComplete="off" {...register('claim_token', { required: t('form.required') })} />
        </Field>
        <Field label={t('agents.linkVps')} error={formState.errors.vps_id?.message} hint={t('agents.linkVpsHint')}>
          <select {...register('vps_id')}>
            <option value="">{t('agents.linkAuto')}</option>
            {(vps.data?.data ?? []).map((v) => (
              <option key={v.id} value={v.id}>
                {v.hostname}
              </option>
            ))}
          </select>
        </Field>
        {!linkTo && (
          <fieldset className="grid gap-3 rounded-lg border border-slate-200 p-3 sm:grid-cols-3 dark:border-slate-800">
            <legend className="px-1 text-xs text-slate-500 dark:text-slate-400">{t('agents.newVps')}</legend>
            <Field label={t('vps.provider')} error={formState.errors.provider_id?.message}>
              <select {...register('provider_id')}>
                <option value="">{t('common.none')}</option>
                {(providers.data?.data ?? []).map((p) => (
                  <option key={p.id} value={p.id}>
                    {p.name}
                  </option>
                ))}
              </select>
            </Field>
            <Field label={t('vps.country')} error={formState.errors.country?.message}>
              <input maxLength={2} {...register('country')} />
            </Field>
            <Field label={t('vps.purpose')} error={formState.errors.purpose?.message}>
              <select {...register('purpose')}>
                <option value="">{t('common.none')}</option>
                {PURPOSES.map((p) => (
                  <option key={p} value={p}>
                    {t(`purpose.${p}`)}
                  </option>
                ))}
              </select>
            </Field>
          </fieldset>
        )}
      </form>
    </Dialog>
  );
}

interface TokenForm {
  name: string;
  expires_in_hours: number;
  max_uses: number;
}

export function TokenDialog({ onClose }: { onClose: () => void }) {
  const { t } = useI18n();
  const create = useCreateEnrollmentToken();
  const [error, setFormError] = useState<string | null>(null);
  const { register, handleSubmit, formState, setError } = useForm<TokenForm>({
    defaultValues: { name: '', expires_in_hours: 24, max_uses: 1 },
  });
  const created = create.data;
  const submit = handleSubmit(async (v) => {
    setFormError(null);
    try {
      await create.mutateAsync({ name: v.name.trim() || null, expires_in_hours: v.expires_in_hours, max_uses: v.max_uses });
    } catch (e) {
      setFormError(serverErrors(e, setError as never, ['name', 'expires_in_hours', 'max_uses']));
    }
  });
  return (
    <Dialog
      open
      title={t('tokens.create')}
      onClose={onClose}
      footer={
        created ? (
          <button type="button" className="btn-primary" onClick={onClose}>
            {t('common.done')}
          </button>
        ) : (
          <>
            <button type="button" className="btn-secondary" onClick={onClose}>
              {t('common.cancel')}
            </button>
            <button type="submit" form="token-form" className="btn-primary" disabled={create.isPending} data-testid="token-submit">
              {t('tokens.create')}
            </button>
          </>
        )
      }
    >
      {created ? (
        <SecretOnce label={t('tokens.secret')} secret={created.token} testId="token-secret" />
      ) : (
        <form id="token-form" className="grid gap-4 sm:grid-cols-2" onSubmit={submit} noValidate>
          {error && (
            <p role="alert" className="rounded-lg bg-rose-50 px-3 py-2 text-sm text-rose-700 sm:col-span-2 dark:bg-rose-500/10 dark:text-rose-300">
              {error}
            </p>
          )}
          <Field label={t('tokens.name')} error={formState.errors.name?.message} className="sm:col-span-2">
            <input autoComplete="off" {...register('name')} />
          </Field>
          <Field label={t('tokens.expiresIn')} error={formState.errors.expires_in_hours?.message}>
            <input type="number" min={1} {...register('expires_in_hours', { valueAsNumber: true, required: t('form.required'), min: { value: 1, message: t('form.positive') } })} />
          </Field>
          <Field label={t('tokens.maxUses')} error={formState.errors.max_uses?.message}>
            <input type="number" min={1} {...register('max_uses', { valueAsNumber: true, required: t('form.required'), min: { value: 1, message: t('form.positive') } })} />
          </Field>
        </form>
      )}
    </Dialog>
  );
}

/** Whether a token can still enrol agents. */
export function tokenState(tok: EnrollmentToken, now: Date = new Date()): 'revoked' | 'expired' | 'used' | 'active' {
  if (tok.revoked_at) return 'revoked';
  if (new Date(tok.expires_at) <= now) return 'expired';
  if (tok.uses >= tok.max_uses) return 'used';
  return 'active';
}

function Tokens() {
  const { t, locale } = useI18n();
  const tokens = useEnrollmentTokens();
  const revoke = useRevokeEnrollmentToken();
  const [creating, setCreating] = useState(false);
  const [revoking, setRevoking] = useState<EnrollmentToken | null>(null);
  const rows = tokens.data ?? [];
  return (
    <section className="mt-8" data-testid="enrollment-tokens">
      <div className="mb-3 flex flex-wrap items-end justify-between gap-2">
        <div>
          <h2 className="text-lg font-semibold">{t('tokens.title')}</h2>
          <p className="text-sm text-slate-500 dark:text-slate-400">{t('tokens.body')}</p>
        </div>
        <button type="button" className="btn-secondary" onClick={() => setCreating(true)} data-testid="add-token">
          <Plus className="size-4" aria-hidden="true" />
          {t('tokens.create')}
        </button>
      </div>
      <div className="card overflow-hidden">
        {tokens.isPending ? (
          <Loading rows={2} />
        ) : tokens.isError ? (
          <ErrorState error={tokens.error} onRetry={() => void tokens.refetch()} />
        ) : rows.length === 0 ? (
          <EmptyState title={t('tokens.empty')} />
        ) : (
          <ul className="divide-y divide-slate-100 dark:divide-slate-800">
            {rows.map((tok) => {
              const state = tokenState(tok);
              return (
                <li key={tok.id} className="flex flex-wrap items-center gap-x-6 gap-y-1 px-5 py-3 text-sm" data-testid="token-row">
                  <span className="min-w-[10rem] flex-1 font-medium">{tok.name ?? t('tokens.unnamed')}</span>
                  <span className="text-slate-500 dark:text-slate-400">{t('tokens.uses', { n: tok.uses, max: tok.max_uses })}</span>
                  <span className="text-slate-500 dark:text-slate-400">{t('tokens.expires', { at: formatDateTime(tok.expires_at, locale) })}</span>
                  <span data-testid="token-state" className={state === 'active' ? 'text-emerald-600 dark:text-emerald-400' : 'text-slate-500'}>
                    {t(`tokens.state.${state}`)}
                  </span>
                  {state !== 'revoked' && (
                    <button type="button" className="btn-ghost px-2 text-rose-600" onClick={() => setRevoking(tok)} aria-label={t('tokens.revokeTitle', { name: tok.name ?? tok.id })}>
                      <Trash2 className="size-4" aria-hidden="true" />
                    </button>
                  )}
                </li>
              );
            })}
          </ul>
        )}
      </div>
      {creating && <TokenDialog onClose={() => setCreating(false)} />}
      <ConfirmDialog
        open={revoking !== null}
        title={t('tokens.revokeTitle', { name: revoking?.name ?? revoking?.id ?? '' })}
        body={t('tokens.revokeBody')}
        confirm={t('tokens.revoke')}
        danger
        busy={revoke.isPending}
        onClose={() => setRevoking(null)}
        onConfirm={() => revoking && revoke.mutate(revoking.id, { onSettled: () => setRevoking(null) })}
      />
    </section>
  );
}

function AgentRow({ agent, onClaim, onDelete, canChange }: { agent: Agent; onClaim: () => void; onDelete: () => void; canChange: boolean }) {
  const { t, locale } = useI18n();
  const rotate = useRotateAgentKey();
  return (
    <li className="flex flex-wrap items-center gap-x-6 gap-y-2 px-5 py-4" data-testid="agent-row" data-agent-id={agent.id}>
      <div className="min-w-[12rem] flex-1">
        <div className="flex items-center gap-2">
          <AgentDot status={agent.status} />
          <span className="font-medium">{agent.hostname}</span>
          <span className="text-xs text-slate-500 dark:text-slate-400" data-testid="agent-status">
            {t(`agent.${agent.status}`)}
          </span>
        </div>
        <p className="mt-0.5 text-xs text-slate-500 dark:text-slate-400">
          {[agent.os, agent.arch, agent.agent_version && `v${agent.agent_version}`, agent.ip_addresses.join(', ')].filter(Boolean).join(' · ')}
        </p>
      </div>
      <div className="text-sm">
        {agent.vps_id ? (
          <Link to={`/vps/${agent.vps_id}`} className="text-indigo-600 hover:underline dark:text-indigo-400">
            {t('agents.openVps')}
          </Link>
        ) : (
          <span className="text-slate-500">{t('agents.noVps')}</span>
        )}
      </div>
      <div className="text-xs text-slate-500 dark:text-slate-400">
        {agent.claimed
          ? t('agents.lastHeartbeat', { at: formatDateTime(agent.last_heartbeat_at, locale) })
          : t('agents.registered', { at: formatDateTime(agent.registered_at, locale) })}
        {agent.key_pending && <span className="ml-2 text-amber-600 dark:text-amber-400">{t('agents.keyPending')}</span>}
      </div>
      {canChange && (
        <div className="flex gap-1">
          {!agent.claimed ? (
            <button type="button" className="btn-primary" onClick={onClaim} data-testid="claim-agent">
              <Link2 className="size-4" aria-hidden="true" />
              {t('agents.claim')}
            </button>
          ) : (
            <button
              type="button"
              className="btn-ghost px-2"
              onClick={() => rotate.mutate(agent.id)}
              disabled={rotate.isPending}
              aria-label={t('agents.rotateTitle', { name: agent.hostname })}
              title={t('agents.rotateTitle', { name: agent.hostname })}
            >
              <RotateCw className="size-4" aria-hidden="true" />
            </button>
          )}
          <button type="button" className="btn-ghost px-2 text-rose-600" onClick={onDelete} aria-label={t('agents.deleteTitle', { name: agent.hostname })}>
            <Trash2 className="size-4" aria-hidden="true" />
          </button>
        </div>
      )}
    </li>
  );
}

export default function Agents() {
  const { t } = useI18n();
  const me = useMe();
  const agents = useAgents();
  const del = useDeleteAgent();
  const [claiming, setClaiming] = useState<Agent | null | undefined>(undefined);
  const [deleting, setDeleting] = useState<Agent | null>(null);
  const role = me.data?.role;
  const canChange = role === 'admin' || role === 'operator';
  const all = agents.data?.data ?? [];
  const pending = all.filter((a) => !a.claimed);
  const claimed = all.filter((a) => a.claimed);

  const list = (rows: Agent[], testId: string) => (
    <ul className="divide-y divide-slate-100 dark:divide-slate-800" data-testid={testId}>
      {rows.map((a) => (
        <AgentRow key={a.id} agent={a} canChange={canChange} onClaim={() => setClaiming(a)} onDelete={() => setDeleting(a)} />
      ))}
    </ul>
  );

  return (
    <>
      <PageHeader
        title={t('agents.title')}
        subtitle={t('agents.subtitle')}
        actions={
          canChange && (
            <button type="button" className="btn-primary" onClick={() => setClaiming(null)} data-testid="claim-by-id">
              <Link2 className="size-4" aria-hidden="true" />
              {t('agents.claim')}
            </button>
          )
        }
      />
      {agents.isPending ? (
        <div className="card">
          <Loading />
        </div>
      ) : agents.isError ? (
        <div className="card">
          <ErrorState error={agents.error} onRetry={() => void agents.refetch()} />
        </div>
      ) : (
        <>
          {pending.length > 0 && (
            <section className="mb-6">
              <h2 className="mb-3 text-lg font-semibold">{t('agents.pending', { n: pending.length })}</h2>
              <div className="card overflow-hidden border-amber-300 dark:border-amber-500/40">{list(pending, 'pending-agents')}</div>
            </section>
          )}
          <section>
            <h2 className="mb-3 text-lg font-semibold">{t('agents.claimed')}</h2>
            <div className="card overflow-hidden">
              {claimed.length === 0 ? <EmptyState title={t('agents.emptyTitle')} body={t('agents.emptyBody')} /> : list(claimed, 'claimed-agents')}
            </div>
          </section>
        </>
      )}
      {role === 'admin' && <Tokens />}
      {claiming !== undefined && <ClaimDialog agent={claiming ?? undefined} onClose={() => setClaiming(undefined)} />}
      <ConfirmDialog
        open={deleting !== null}
        title={t('agents.deleteTitle', { name: deleting?.hostname ?? '' })}
        body={t('agents.deleteBody')}
        confirm={t('common.delete')}
        danger
        busy={del.isPending}
        onClose={() => setDeleting(null)}
        onConfirm={() => deleting && del.mutate(deleting.id, { onSettled: () => setDeleting(null) })}
      />
    </>
  );
}
