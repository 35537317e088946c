import { useState } from 'react';
import { useForm, type FieldPath } from 'react-hook-form';
import { Link, useSearchParams } from 'react-router';
import { ExternalLink, Pencil, Plus, Search, Star, Trash2 } from 'lucide-react';
import { ApiError } from '../api/errors';
import { useDeleteProvider, useProviders, useSaveProvider } from '../api/hooks';
import type { Provider, ProviderCreate } from '../api/types';
import { ConfirmDialog, Dialog } from '../components/Dialog';
import { Field } from '../components/Field';
import { EmptyState, ErrorState, Loading, PageHeader } from '../components/states';
import { useI18n } from '../i18n';
import { countryName, flag, formatNumber } from '../lib/format';
import { useDebounced } from '../lib/useDebounced';

interface ProviderForm {
  name: string;
  country: string;
  website: string;
  panel_url: string;
  rating: string;
  api_supported: boolean;
  notes: string;
}

const toForm = (p?: Provider): ProviderForm => ({
  name: p?.name ?? '',
  country: p?.country ?? '',
  website: p?.website ?? '',
  panel_url: p?.panel_url ?? '',
  rating: p?.rating ? String(p.rating) : '',
  api_supported: p?.api_supported ?? false,
  notes: p?.notes ?? '',
});

const orNull = (s: string) => (s.trim() === '' ? null : s.trim());

const toBody = (f: ProviderForm): ProviderCreate => ({
  name: f.name.trim(),
  country: orNull(f.country),
  website: orNull(f.website),
  panel_url: orNull(f.panel_url),
  rating: f.rating === '' ? null : Number(f.rating),
  api_supported: f.api_supported,
  notes: orNull(f.notes),
});

function ProviderDialog({ provider, open, onClose }: { provider?: Provider; open: boolean; onClose: () => void }) {
  const { t } = useI18n();
  const save = useSaveProvider();
  const [formError, setFormError] = useState<string | null>(null);
  const { register, handleSubmit, setError, formState } = useForm<ProviderForm>({ defaultValues: toForm(provider) });

  const onSubmit = async (f: ProviderForm) => {
    setFormError(null);
    try {
      await save.mutateAsync({ id: provider?.id, body: toBody(f) });
      onClose();
    } catch (e) {
      if (e instanceof ApiError && Object.keys(e.fields).length > 0) {
        for (const [field, message] of Object.entries(e.fields)) {
          if (field in toForm()) setError(field as FieldPath<ProviderForm>, { type: 'server', message }, { shouldFocus: true });
          else setFormError(`${field}: ${message}`);
        }
      } else if (e instanceof ApiError && e.status === 409) {
        setError('name', { type: 'server', message: e.message }, { shouldFocus: true });
      } else {
        setFormError(e instanceof Error ? e.message : String(e));
      }
    }
  };
  const err = (n: keyof ProviderForm) => formState.errors[n]?.message;

  return (
    <Dialog
      open={open}
      onClose={onClose}
      title={provider ? t('providers.editTitle', { name: provider.name }) : t('providers.newTitle')}
      footer={
        <>
          <button type="button" className="btn-secondary" onClick={onClose}>
            {t('common.cancel')}
          </button>
          <button type="submit" form="provider-form" className="btn-primary" disabled={formState.isSubmitting} data-testid="save-provider">
            {provider ? t('common.save') : t('providers.create')}
          </button>
        </>
      }
    >
      <form id="provider-form" className="grid grid-cols-1 gap-4 sm:grid-cols-2" onSubmit={handleSubmit(onSubmit)} noValidate>
        {formError && (
          <p role="alert" className="rounded-lg bg-rose-50 px-3 py-2 text-sm text-rose-700 sm:col-span-2 dark:bg-rose-500/10 dark:text-rose-300">
            {formError}
          </p>
        )}
        <Field label={t('providers.name')} error={err('name')} className="sm:col-span-2">
          <input autoComplete="off" {...register('name', { required: t('form.required') })} />
        </Field>
        <Field label={t('vps.country')} error={err('country')} hint={t('vpsForm.countryHint')}>
          <input autoComplete="off" maxLength={8} className="input uppercase" {...register('country')} />
        </Field>
        <Field label={t('providers.rating')} error={err('rating')}>
          <select {...register('rating')}>
            <option value="">{t('common.none')}</option>
            {[1, 2, 3, 4, 5].map((r) => (
              <option key={r} value={r}>
                {'★'.repeat(r)}
              </option>
            ))}
          </select>
        </Field>
        <Field label={t('providers.website')} error={err('website')}>
          <input type="url" autoComplete="off" {...register('website')} />
        </Field>
        <Field label={t('providers.panel')} error={err('panel_url')}>
          <input type="url" autoComplete="off" {...register('panel_url')} />
        </Field>
        <label className="inline-flex items-center gap-2 text-sm sm:col-span-2">
          <input type="checkbox" className="size-4" {...register('api_supported')} />
          {t('providers.apiSupported')}
        </label>
        <Field label={t('vps.notes')} error={err('notes')} className="sm:col-span-2">
          <textarea rows={3} {...register('notes')} />
        </Field>
      </form>
    </Dialog>
  );
}

function Rating({ value }: { value: number | null | undefined }) {
  const { t } = useI18n();
  if (!value) return <span className="text-slate-400">{t('common.none')}</span>;
  return (
    <span className="inline-flex" title={t('providers.ratingOf', { n: value })}>
      {Array.from({ length: 5 }, (_, i) => (
        <Star key={i} className={`size-3.5 ${i < value ? 'fill-amber-400 text-amber-400' : 'text-slate-300 dark:text-slate-600'}`} aria-hidden="true" />
      ))}
      <span className="sr-only">{t('providers.ratingOf', { n: value })}</span>
    </span>
  );
}

export default function Providers() {
  const { t, locale } = useI18n();
  const [params, setParams] = useSearchParams();
  const [search, setSearch] = useState(params.get('q') ?? '');
  const q = useDebounced(search.trim(), 300);
  const providers = useProviders(q);
  const [editing, setEditing] = useState<Provider | undefined>();
  const creating = params.get('new') === '1';
  const [dialogOpen, setDialogOpen] = useState(creating);
  const [deleting, setDeleting] = useState<Provider | null>(null);
  const [deleteError, setDeleteError] = useState<string | null>(null);
  const del = useDeleteProvider();

  const openNew = () => {
    setEditing(undefined);
    setDialogOpen(true);
  };
  const close = () => {
    setDialogOpen(false);
    if (creating) setParams({}, { replace: true });
  };
  const rows = providers.data?.data ?? [];

  return (
    <>
      <PageHeader
        title={t('providers.title')}
        subtitle={providers.data ? t('providers.count', { n: formatNumber(providers.data.total, locale) }) : undefined}
        actions={
          <button type="button" className="btn-primary" onClick={openNew} data-testid="add-provider">
            <Plus className="size-4" aria-hidden="true" />
            {t('providers.add')}
          </button>
        }
      />
      <div className="relative mb-4 max-w-sm">
        <label htmlFor="provider-search" className="sr-only">
          {t('filters.search')}
        </label>
        <Search className="pointer-events-none absolute left-3 top-1/2 size-4 -translate-y-1/2 text-slate-400" aria-hidden="true" />
        <input id="provider-search" type="search" className="input pl-9" placeholder={t('providers.searchPlaceholder')} value={search} onChange={(e) => setSearch(e.target.value)} />
      </div>
      {deleteError && (
        <div role="alert" className="mb-4 rounded-xl border border-rose-200 bg-rose-50 px-4 py-3 text-sm text-rose-800 dark:border-rose-500/30 dark:bg-rose-500/10 dark:text-rose-200">
          {deleteError}
        </div>
      )}
      <div className="card overflow-hidden">
        {providers.isPending ? (
          <Loading />
        ) : providers.isError ? (
          <ErrorState error={providers.error} onRetry={() => void providers.refetch()} />
        ) : rows.length === 0 ? (
          q ? (
            <EmptyState title={t('providers.noMatch')} />
          ) : (
            <EmptyState
              title={t('providers.emptyTitle')}
              body={t('providers.emptyBody')}
              action={
                <button type="button" className="btn-primary" onClick={openNew}>
                  <Plus className="size-4" aria-hidden="true" />
                  {t('providers.add')}
                </button>
              }
            />
          )
        ) : (
          <ul className="divide-y divide-slate-100 dark:divide-slate-800" data-testid="provider-list">
            {rows.map((p) => (
              <li key={p.id} className="flex flex-wrap items-center gap-x-6 gap-y-2 px-5 py-4" data-testid="provider-row">
                <div className="min-w-[12rem] flex-1">
                  <div className="flex items-center gap-2">
                    <span className="font-medium">{p.name}</span>
                    {p.api_supported && (
                      <span className="rounded-full bg-sky-50 px-2 py-0.5 text-xs text-sky-700 dark:bg-sky-500/10 dark:text-sky-300">{t('providers.api')}</span>
                    )}
                  </div>
                  <p className="mt-0.5 flex flex-wrap items-center gap-x-3 text-xs text-slate-500 dark:text-slate-400">
                    {p.country && (
                      <span>
                        {flag(p.country)} {countryName(p.country, locale)}
                      </span>
                    )}
                    {p.website && (
                      <a href={p.website} target="_blank" rel="noreferrer" className="inline-flex items-center gap-0.5 hover:underline">
                        {t('providers.website')}
                        <ExternalLink className="size-3" aria-hidden="true" />
                      </a>
                    )}
                    {p.panel_url && (
                      <a href={p.panel_url} target="_blank" rel="noreferrer" className="inline-flex items-center gap-0.5 hover:underline">
                        {t('providers.panel')}
                        <ExternalLink className="size-3" aria-hidden="true" />
                      </a>
                    )}
                  </p>
                </div>
                <Rating value={p.rating} />
                <Link to={`/vps?provider_id=${p.id}`} className="text-sm hover:underline" data-testid="provider-counts">
                  <span className="font-semibold tabular-nums">{formatNumber(p.vps_count, locale)}</span>{' '}
                  <span className="text-slate-500">{t('providers.live')}</span>
                  {' · '}
                  <span className="font-semibold tabular-nums text-emerald-600 dark:text-emerald-400">{formatNumber(p.active_vps_count, locale)}</span>{' '}
                  <span className="text-slate-500">{t('providers.active')}</span>
                </Link>
                <div className="flex gap-1">
                  <button
                    type="button"
                    className="btn-ghost px-2"
                    onClick={() => {
                      setEditing(p);
                      setDialogOpen(true);
                    }}
                    aria-label={t('providers.editTitle', { name: p.name })}
                  >
                    <Pencil className="size-4" aria-hidden="true" />
                  </button>
                  <button type="button" className="btn-ghost px-2 text-rose-600" onClick={() => setDeleting(p)} aria-label={t('providers.deleteTitle', { name: p.name })}>
                    <Trash2 className="size-4" aria-hidden="true" />
                  </button>
                </div>
              </li>
            ))}
          </ul>
        )}
      </div>
      {/* Mounted afresh for each opening, so the form starts from the provider. */}
      {dialogOpen && <ProviderDialog key={editing?.id ?? 'new'} open provider={editing} onClose={close} />}
      <ConfirmDialog
        open={deleting !== null}
        title={t('providers.deleteTitle', { name: deleting?.name ?? '' })}
        body={t('providers.deleteBody')}
        confirm={t('common.delete')}
        danger
        busy={del.isPending}
        onClose={() => setDeleting(null)}
        onConfirm={async () => {
          setDeleteError(null);
          try {
            if (deleting) await del.mutateAsync(deleting.id);
          } catch (e) {
            setDeleteError(e instanceof ApiError && e.status === 409 ? t('providers.inUse', { name: deleting?.name ?? '' }) : e instanceof Error ? e.message : String(e));
          }
          setDeleting(null);
        }}
      />
    </>
  );
}
