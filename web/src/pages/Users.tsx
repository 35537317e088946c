import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { Plus, Trash2 } from 'lucide-react';
import { useDeleteUser, useMe, useSaveUser, useUsers } from '../api/account';
import { ROLES } from '../api/enums';
import { ApiError } from '../api/errors';
import type { Role, User } from '../api/types';
import { ConfirmDialog, Dialog } from '../components/Dialog';
import { Field } from '../components/Field';
import { EmptyState, ErrorState, Loading, PageHeader } from '../components/states';
import { useI18n } from '../i18n';
import { formatDateTime } from '../lib/format';

interface UserForm {
  email: string;
  password: string;
  role: Role;
}

function NewUserDialog({ onClose }: { onClose: () => void }) {
  const { t } = useI18n();
  const save = useSaveUser();
  const [error, setFormError] = useState<string | null>(null);
  const { register, handleSubmit, formState, setError } = useForm<UserForm>({ defaultValues: { email: '', password: '', role: 'operator' } });
  const submit = handleSubmit(async (v) => {
    setFormError(null);
    try {
      await save.mutateAsync({ create: { email: v.email.trim(), password: v.password, role: v.role } });
      onClose();
    } catch (e) {
      const fields = e instanceof ApiError ? e.fields : {};
      for (const f of ['email', 'password', 'role'] as const) if (fields[f]) setError(f, { message: fields[f] });
      if (Object.keys(fields).length === 0) setFormError(e instanceof Error ? e.message : String(e));
    }
  });
  return (
    <Dialog
      open
      title={t('users.add')}
      onClose={onClose}
      footer={
        <>
          <button type="button" className="btn-secondary" onClick={onClose}>
            {t('common.cancel')}
          </button>
          <button type="submit" form="user-form" className="btn-primary" disabled={save.isPending} data-testid="save-user">
            {t('users.add')}
          </button>
        </>
      }
    >
      <form id="user-form" className="space-y-4" onSubmit={submit} noValidate>
        {error && (
          <p role="alert" className="rounded-lg bg-rose-50 px-3 py-2 text-sm text-rose-700 dark:bg-rose-500/10 dark:text-rose-300">
            {error}
          </p>
        )}
        <Field label={t('auth.email')} error={formState.errors.email?.message}>
          <input type="email" autoComplete="off" {...register('email', { required: t('form.required') })} />
        </Field>
        <Field label={t('auth.password')} error={formState.errors.password?.message} hint={t('settings.passwordLength')}>
          <input type="password" autoComplete="new-password" {...register('password', { required: t('form.required') })} />
        </Field>
        <Field label={t('settings.role')} error={formState.errors.role?.message}>
          <select {...register('role')}>
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {t(`role.${r}`)}
              </option>
            ))}
          </select>
        </Field>
      </form>
    </Dialog>
  );
}

function UserRow({ user, self, onDelete }: { user: User; self: boolean; onDelete: () => void }) {
  const { t, locale } = useI18n();
  const save = useSaveUser();
  const roleId = `role-${user.id}`;
  return (
    <li className="flex flex-wrap items-center gap-x-6 gap-y-2 px-5 py-4" data-testid="user-row">
      <div className="min-w-[14rem] flex-1">
        <div className="flex items-center gap-2">
          <span className="font-medium">{user.email}</span>
          {self && <span className="rounded-full bg-indigo-50 px-2 py-0.5 text-xs text-indigo-700 dark:bg-indigo-500/15 dark:text-indigo-300">{t('users.you')}</span>}
          {user.disabled && <span className="rounded-full bg-slate-100 px-2 py-0.5 text-xs text-slate-600 dark:bg-slate-800 dark:text-slate-300">{t('users.disabled')}</span>}
          {user.totp_enabled && <span className="rounded-full bg-emerald-50 px-2 py-0.5 text-xs text-emerald-700 dark:bg-emerald-500/10 dark:text-emerald-300">{t('users.totp')}</span>}
        </div>
        <p className="mt-0.5 text-xs text-slate-500 dark:text-slate-400">{t('users.lastLogin', { at: formatDateTime(user.last_login_at, locale) })}</p>
      </div>
      <div className="flex items-center gap-2">
        <label htmlFor={roleId} className="sr-only">
          {t('settings.role')}
        </label>
        <select
          id={roleId}
          className="input w-auto"
          value={user.role}
          disabled={self || save.isPending}
          onChange={(e) => save.mutate({ id: user.id, patch: { role: e.target.value as Role } })}
        >
          {ROLES.map((r) => (
            <option key={r} value={r}>
              {t(`role.${r}`)}
            </option>
          ))}
        </select>
        <label className="flex items-center gap-1.5 text-sm">
          <input
            type="checkbox"
            checked={!user.disabled}
            disabled={self || save.isPending}
            onChange={(e) => save.mutate({ id: user.id, patch: { disabled: !e.target.checked } })}
          />
          {t('users.enabled')}
        </label>
        {user.totp_enabled && !self && (
          <button type="button" className="btn-ghost text-xs" onClick={() => save.mutate({ id: user.id, patch: { totp_enabled: false } })}>
            {t('users.resetTotp')}
          </button>
        )}
        {!self && (
          <button type="button" className="btn-ghost px-2 text-rose-600" onClick={onDelete} aria-label={t('users.deleteTitle', { name: user.email })}>
            <Trash2 className="size-4" aria-hidden="true" />
          </button>
        )}
      </div>
      {save.error && (
        <p role="alert" className="w-full text-sm text-rose-600 dark:text-rose-400">
          {save.error.message}
        </p>
      )}
    </li>
  );
}

export default function Users() {
  const { t } = useI18n();
  const users = useUsers();
  const me = useMe();
  const del = useDeleteUser();
  const [adding, setAdding] = useState(false);
  const [deleting, setDeleting] = useState<User | null>(null);
  const rows = users.data?.data ?? [];
  return (
    <>
      <PageHeader
        title={t('users.title')}
        subtitle={t('users.subtitle')}
        actions={
          <button type="button" className="btn-primary" onClick={() => setAdding(true)} data-testid="add-user">
            <Plus className="size-4" aria-hidden="true" />
            {t('users.add')}
          </button>
        }
      />
      <div className="card overflow-hidden">
        {users.isPending ? (
          <Loading />
        ) : users.isError ? (
          <ErrorState error={users.error} onRetry={() => void users.refetch()} />
        ) : rows.length === 0 ? (
          <EmptyState title={t('users.empty')} />
        ) : (
          <ul className="divide-y divide-slate-100 dark:divide-slate-800">
            {rows.map((u) => (
              <UserRow key={u.id} user={u} self={me.data?.user?.id === u.id} onDelete={() => setDeleting(u)} />
            ))}
          </ul>
        )}
      </div>
      {adding && <NewUserDialog onClose={() => setAdding(false)} />}
      <ConfirmDialog
        open={deleting !== null}
        title={t('users.deleteTitle', { name: deleting?.email ?? '' })}
        body={t('users.deleteBody')}
        confirm={t('common.delete')}
        danger
        busy={del.isPending}
        onClose={() => setDeleting(null)}
        onConfirm={() => deleting && del.mutate(deleting.id, { onSettled: () => setDeleting(null) })}
      />
    </>
  );
}
