import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { Plus, Trash2 } from 'lucide-react';
import { useApiKeys, useCreateApiKey, useDeleteApiKey } from '../api/account';
import { ROLES } from '../api/enums';
import { ApiError } from '../api/errors';
import type { ApiKey, Role } from '../api/types';
import { ConfirmDialog, Dialog } from '../components/Dialog';
import { Field } from '../components/Field';
import { SecretOnce } from '../components/SecretOnce';
import { EmptyState, ErrorState, Loading, PageHeader } from '../components/states';
import { useI18n } from '../i18n';
import { formatDate, formatDateTime } from '../lib/format';

interface KeyForm {
  name: string;
  role: Role;
  expires_on: string;
}

function NewKeyDialog({ onClose }: { onClose: () => void }) {
  const { t } = useI18n();
  const create = useCreateApiKey();
  const [error, setFormError] = useState<string | null>(null);
  const { register, handleSubmit, formState, setError } = useForm<KeyForm>({ defaultValues: { name: '', role: 'readonly', expires_on: '' } });
  const submit = handleSubmit(async (v) => {
    setFormError(null);
    try {
      await create.mutateAsync({
        name: v.name.trim(),
        role: v.role,
        expires_at: v.expires_on ? new Date(`${v.expires_on}T00:00:00Z`).toISOString() : null,
      });
    } catch (e) {
      const fields = e instanceof ApiError ? e.fields : {};
      if (fields.name) setError('name', { message: fields.name });
      if (fields.role) setError('role', { message: fields.role });
      if (fields.expires_at) setError('expires_on', { message: fields.expires_at });
      if (Object.keys(fields).length === 0) setFormError(e instanceof Error ? e.message : String(e));
    }
  });
  const created = create.data;
  return (
    <Dialog
      open
      title={t('keys.add')}
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
            <button type="submit" form="key-form" className="btn-primary" disabled={create.isPending} data-testid="save-key">
              {t('keys.add')}
            </button>
          </>
        )
      }
    >
      {created ? (
        <SecretOnce label={t('keys.secret', { name: created.api_key.name })} secret={created.key} testId="key-secret" />
      ) : (
        <form id="key-form" className="space-y-4" onSubmit={submit} noValidate>
          {error && (
            <p role="alert" className="rounded-lg bg-rose-50 px-3 py-2 text-sm text-rose-700 dark:bg-rose-500/10 dark:text-rose-300">
              {error}
            </p>
          )}
          <Field label={t('keys.name')} error={formState.errors.name?.message}>
            <input autoComplete="off" {...register('name', { required: t('form.required') })} />
          </Field>
          <Field label={t('settings.role')} error={formState.errors.role?.message} hint={t('keys.roleHint')}>
            <select {...register('role')}>
              {ROLES.map((r) => (
                <option key={r} value={r}>
                  {t(`role.${r}`)}
                </option>
              ))}
            </select>
          </Field>
          <Field label={t('keys.expiresOn')} error={formState.errors.expires_on?.message} hint={t('keys.expiresHint')}>
            <input type="date" {...register('expires_on')} />
          </Field>
        </form>
      )}
    </Dialog>
  );
}

export default function ApiKeys() {
  const { t, locale } = useI18n();
  const keys = useApiKeys();
  const del = useDeleteApiKey();
  const [adding, setAdding] = useState(false);
  const [deleting, setDeleting] = useState<ApiKey | null>(null);
  const rows = keys.data?.data ?? [];
  return (
    <>
      <PageHeader
        title={t('keys.title')}
        subtitle={t('keys.subtitle')}
        actions={
          <button type="button" className="btn-primary" onClick={() => setAdding(true)} data-testid="add-key">
            <Plus className="size-4" aria-hidden="true" />
            {t('keys.add')}
          </button>
        }
      />
      <div className="card overflow-hidden">
        {keys.isPending ? (
          <Loading />
        ) : keys.isError ? (
          <ErrorState error={keys.error} onRetry={() => void keys.refetch()} />
        ) : rows.length === 0 ? (
          <EmptyState title={t('keys.empty')} body={t('keys.emptyBody')} />
        ) : (
          <ul className="divide-y divide-slate-100 dark:divide-slate-800">
            {rows.map((k) => (
              <li key={k.id} className="flex flex-wrap items-center gap-x-6 gap-y-1 px-5 py-3 text-sm" data-testid="key-row">
                <div className="min-w-[12rem] flex-1">
                  <span className="font-medium">{k.name}</span>{' '}
                  <code className="rounded bg-slate-100 px-1.5 py-0.5 font-mono text-xs dark:bg-slate-800">{`${k.prefix}…`}</code>
                </div>
                <span>{t(`role.${k.role}`)}</span>
                <span className="text-slate-500 dark:text-slate-400">{t('keys.lastUsed', { at: formatDateTime(k.last_used_at, locale) })}</span>
                <span className="text-slate-500 dark:text-slate-400">{k.expires_at ? t('keys.expires', { at: formatDate(k.expires_at, locale) }) : t('keys.noExpiry')}</span>
                <button type="button" className="btn-ghost px-2 text-rose-600" onClick={() => setDeleting(k)} aria-label={t('keys.deleteTitle', { name: k.name })}>
                  <Trash2 className="size-4" aria-hidden="true" />
                </button>
              </li>
            ))}
          </ul>
        )}
      </div>
      {adding && <NewKeyDialog onClose={() => setAdding(false)} />}
      <ConfirmDialog
        open={deleting !== null}
        title={t('keys.deleteTitle', { name: deleting?.name ?? '' })}
        body={t('keys.deleteBody')}
        confirm={t('common.delete')}
        danger
        busy={del.isPending}
        onClose={() => setDeleting(null)}
        onConfirm={() => deleting && del.mutate(deleting.id, { onSettled: () => setDeleting(null) })}
      />
    </>
  );
}
