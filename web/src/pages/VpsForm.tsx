import { useEffect, useState, type ReactNode } from 'react';
import { Controller, useFieldArray, useForm, useWatch, type FieldPath } from 'react-hook-form';
import { Link, useNavigate, useParams } from 'react-router';
import { Plus, Trash2 } from 'lucide-react';
import { BILLING_CYCLES, IP_LABELS, PURPOSES, VPS_STATUSES } from '../api/enums';
import { ApiError, formFieldName } from '../api/errors';
import { useCreateVps, useProviders, useUpdateVps, useVps } from '../api/hooks';
import { IP_LABEL_COLOURS } from '../components/badges';
import { Field } from '../components/Field';
import { ErrorState, Loading, PageHeader } from '../components/states';
import { TagsInput } from '../components/TagsInput';
import { useI18n } from '../i18n';
import { emptyVpsForm, formToBody, serverIpIndexToForm, vpsToForm, type VpsFormValues } from '../lib/vpsForm';

function Section({ title, children }: { title: string; children: ReactNode }) {
  return (
    <section className="card p-5">
      <h2 className="mb-4 text-base font-semibold">{title}</h2>
      <div className="grid grid-cols-1 gap-4 sm:grid-cols-2">{children}</div>
    </section>
  );
}

export default function VpsFormPage() {
  const { id } = useParams();
  const existing = useVps(id ?? '');
  if (!id) return <VpsForm />;
  if (existing.isPending) return <Loading rows={8} />;
  if (existing.isError) return <ErrorState error={existing.error} onRetry={() => void existing.refetch()} />;
  return <VpsForm id={id} initial={vpsToForm(existing.data.data)} etag={existing.data.etag} />;
}

const FIELDS = new Set<string>(Object.keys(emptyVpsForm));

function VpsForm({ id, initial, etag }: { id?: string; initial?: VpsFormValues; etag?: string | null }) {
  const { t } = useI18n();
  const navigate = useNavigate();
  const providers = useProviders();
  const create = useCreateVps();
  const update = useUpdateVps(id ?? '');
  const [formError, setFormError] = useState<string | null>(null);
  const {
    register,
    control,
    handleSubmit,
    setError,
    setValue,
    getValues,
    formState: { errors, isSubmitting },
  } = useForm<VpsFormValues>({ defaultValues: initial ?? emptyVpsForm });
  const ips = useFieldArray({ control, name: 'ip_addresses' });
  const ipLabels = useWatch({ control, name: 'ip_addresses' });

  // A single provider is the obvious choice for a new VPS.
  const onlyProvider = providers.data?.data.length === 1 ? providers.data.data[0]!.id : undefined;
  useEffect(() => {
    if (onlyProvider && !getValues('provider_id')) setValue('provider_id', onlyProvider);
  }, [onlyProvider, getValues, setValue]);

  const showServerErrors = (e: ApiError) => {
    const unplaced: string[] = [];
    let first: string | null = null;
    for (const [serverField, message] of Object.entries(e.fields)) {
      let name = formFieldName(serverField);
      const ip = /^ip_addresses\.(\d+)\.(.+)$/.exec(name);
      if (ip) name = `ip_addresses.${serverIpIndexToForm(getValues(), Number(ip[1]))}.${ip[2]}`;
      else if (name.startsWith('ip_addresses')) name = 'ip_addresses.root';
      // Other lists (`tags[2]`) show their errors on the whole field.
      else name = name.split('.')[0]!;
      const root = name.split('.')[0]!;
      if (FIELDS.has(root)) {
        setError(name as FieldPath<VpsFormValues>, { type: 'server', message }, { shouldFocus: first === null });
        first ??= name;
      } else {
        unplaced.push(`${serverField}: ${message}`);
      }
    }
    const conflicting = e.details.conflicting_vps as { hostname?: string } | undefined;
    if (first === null) setFormError([e.message, ...unplaced].join(' — '));
    else if (unplaced.length > 0) setFormError(unplaced.join(' — '));
    else if (conflicting?.hostname) setFormError(t('vpsForm.conflictWith', { hostname: conflicting.hostname }));
  };

  const onSubmit = async (values: VpsFormValues) => {
    setFormError(null);
    try {
      const saved = id
        ? await update.mutateAsync({ body: formToBody(values), etag })
        : await create.mutateAsync(formToBody(values));
      navigate(`/vps/${saved.id}`);
    } catch (e) {
      if (e instanceof ApiError && e.status === 412) setFormError(t('vpsForm.stale'));
      else if (e instanceof ApiError && Object.keys(e.fields).length > 0) showServerErrors(e);
      else setFormError(e instanceof ApiError && e.isNetwork ? t('error.network') : e instanceof Error ? e.message : String(e));
    }
  };

  const err = (name: FieldPath<VpsFormValues>): string | undefined => {
    const parts = name.split('.');
    let node: unknown = errors;
    for (const p of parts) node = (node as Record<string, unknown> | undefined)?.[p];
    return (node as { message?: string } | undefined)?.message;
  };
  const required = { required: t('form.required') };

  return (
    <form onSubmit={handleSubmit(onSubmit)} noValidate className="space-y-5" data-testid="vps-form">
      <PageHeader
        title={id ? t('vpsForm.editTitle', { hostname: initial?.hostname ?? '' }) : t('vpsForm.newTitle')}
        subtitle={t('vpsForm.subtitle')}
      />
      {formError && (
        <div role="alert" className="rounded-xl border border-rose-200 bg-rose-50 px-4 py-3 text-sm text-rose-800 dark:border-rose-500/30 dark:bg-rose-500/10 dark:text-rose-200" data-testid="form-error">
          {formError}
        </div>
      )}

      <Section title={t('vpsForm.basics')}>
        <Field label={t('vps.hostname')} error={err('hostname')}>
          <input autoComplete="off" {...register('hostname', required)} />
        </Field>
        <Field label={t('vps.alias')} error={err('alias')}>
          <input autoComplete="off" {...register('alias')} />
        </Field>
        <Field
          label={t('vps.provider')}
          error={err('provider_id')}
          hint={
            providers.data?.data.length === 0 ? (
              <Link to="/providers?new=1" className="text-indigo-600 underline dark:text-indigo-400">
                {t('vpsForm.noProviders')}
              </Link>
            ) : undefined
          }
        >
          <select {...register('provider_id', required)}>
            <option value="">{t('vpsForm.chooseProvider')}</option>
            {providers.data?.data.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
        </Field>
        <Field label={t('vps.purpose')} error={err('purpose')}>
          <select {...register('purpose', required)}>
            {PURPOSES.map((p) => (
              <option key={p} value={p}>
                {t(`purpose.${p}`)}
              </option>
            ))}
          </select>
        </Field>
        <Field label={t('vps.status')} error={err('status')}>
          <select {...register('status')}>
            {VPS_STATUSES.map((s) => (
              <option key={s} value={s}>
                {t(`status.${s}`)}
              </option>
            ))}
          </select>
        </Field>
        <Controller
          control={control}
          name="tags"
          render={({ field }) => (
            <Field label={t('vps.tags')} error={err('tags')} hint={t('vpsForm.tagsHint')}>
              <TagsInput value={field.value} onChange={field.onChange} placeholder={t('vps.tagsPlaceholder')} />
            </Field>
          )}
        />
      </Section>

      <Section title={t('vpsForm.location')}>
        <Field label={t('vps.country')} error={err('country')} hint={t('vpsForm.countryHint')}>
          <input autoComplete="off" maxLength={8} className="input uppercase" {...register('country', required)} />
        </Field>
        <Field label={t('vps.city')} error={err('city')}>
          <input autoComplete="off" {...register('city')} />
        </Field>
        <Field label={t('vps.dc')} error={err('dc_name')}>
          <input autoComplete="off" {...register('dc_name')} />
        </Field>
      </Section>

      <section className="card p-5" data-testid="ip-addresses">
        <div className="mb-4 flex items-center justify-between">
          <h2 className="text-base font-semibold">{t('vps.ips')}</h2>
          <button type="button" className="btn-secondary" onClick={() => ips.append({ ip: '', label: '' })} data-testid="add-ip">
            <Plus className="size-4" aria-hidden="true" />
            {t('vpsForm.addIp')}
          </button>
        </div>
        {errors.ip_addresses?.root?.message && (
          <p role="alert" className="mb-3 text-sm text-rose-600 dark:text-rose-400" data-field-error>
            {errors.ip_addresses.root.message}
          </p>
        )}
        {ips.fields.length === 0 && <p className="text-sm text-slate-500">{t('vpsForm.noIps')}</p>}
        <ul className="space-y-3">
          {ips.fields.map((f, i) => {
            const label = ipLabels?.[i]?.label;
            return (
              <li key={f.id} className="grid grid-cols-[1fr_auto] items-start gap-3 sm:grid-cols-[2fr_1fr_auto]" data-testid="ip-row">
                <Field label={t('vpsForm.ipN', { n: i + 1 })} error={err(`ip_addresses.${i}.ip`)} className="col-span-2 sm:col-span-1">
                  <input autoComplete="off" className="input font-mono" inputMode="decimal" {...register(`ip_addresses.${i}.ip`)} />
                </Field>
                <Field label={t('vpsForm.ipLabel')} error={err(`ip_addresses.${i}.label`)}>
                  <select
                    className={`input ${label ? IP_LABEL_COLOURS[label] : ''} ring-0`}
                    {...register(`ip_addresses.${i}.label`)}
                  >
                    <option value="">{t('vpsForm.noLabel')}</option>
                    {IP_LABELS.map((l) => (
                      <option key={l} value={l}>
                        {t(`ipLabel.${l}`)}
                      </option>
                    ))}
                  </select>
                </Field>
                <button
                  type="button"
                  className="btn-ghost mt-6 px-2 text-rose-600"
                  onClick={() => ips.remove(i)}
                  aria-label={t('vpsForm.removeIp', { n: i + 1 })}
                >
                  <Trash2 className="size-4" aria-hidden="true" />
                </button>
              </li>
            );
          })}
        </ul>
      </section>

      <Section title={t('vpsForm.cost')}>
        <Field label={t('vps.price')} error={err('price')}>
          <input inputMode="decimal" autoComplete="off" {...register('price')} />
        </Field>
        <Field label={t('vps.currency')} error={err('currency')} hint={t('vpsForm.currencyHint')}>
          <input autoComplete="off" maxLength={8} className="input uppercase" {...register('currency')} />
        </Field>
        <Field label={t('vps.billingCycle')} error={err('billing_cycle')}>
          <select {...register('billing_cycle')}>
            {BILLING_CYCLES.map((c) => (
              <option key={c} value={c}>
                {t(`billing.${c}`)}
              </option>
            ))}
          </select>
        </Field>
        <div className="flex items-end pb-2">
          <label className="inline-flex items-center gap-2 text-sm">
            <input type="checkbox" className="size-4" {...register('auto_renew')} />
            {t('vps.autoRenew')}
          </label>
        </div>
        <Field label={t('vps.purchaseDate')} error={err('purchase_date')}>
          <input type="date" {...register('purchase_date')} />
        </Field>
        <Field label={t('vps.expireDate')} error={err('expire_date')}>
          <input type="date" {...register('expire_date')} />
        </Field>
      </Section>

      <Section title={t('vpsForm.specs')}>
        <Field label={t('vps.cpu')} error={err('cpu_cores')}>
          <input inputMode="numeric" {...register('cpu_cores')} />
        </Field>
        <Field label={t('vps.ram')} error={err('ram_mb')}>
          <input inputMode="numeric" {...register('ram_mb')} />
        </Field>
        <Field label={t('vps.disk')} error={err('disk_gb')}>
          <input inputMode="numeric" {...register('disk_gb')} />
        </Field>
        <Field label={t('vps.bandwidth')} error={err('bandwidth_tb')}>
          <input inputMode="decimal" {...register('bandwidth_tb')} />
        </Field>
      </Section>

      <Section title={t('vpsForm.access')}>
        <Field label={t('vps.sshPort')} error={err('ssh_port')} hint={t('vpsForm.sshPortHint')}>
          <input inputMode="numeric" {...register('ssh_port')} />
        </Field>
        <Field label={t('vps.sshUser')} error={err('ssh_user')}>
          <input autoComplete="off" {...register('ssh_user')} />
        </Field>
        <Field label={t('vps.vpnProtocol')} error={err('vpn_protocol')}>
          <input autoComplete="off" {...register('vpn_protocol')} />
        </Field>
        <Field label={t('vps.nodeExporterPort')} error={err('node_exporter_port')} hint={t('vpsForm.nodeExporterHint')}>
          <input inputMode="numeric" {...register('node_exporter_port')} />
        </Field>
        <div className="flex items-end pb-2">
          <label className="inline-flex items-center gap-2 text-sm">
            <input type="checkbox" className="size-4" {...register('monitoring_enabled')} />
            {t('vps.monitoring')}
          </label>
        </div>
      </Section>

      <section className="card p-5">
        <Field label={t('vps.notes')} error={err('notes')}>
          <textarea rows={4} {...register('notes')} />
        </Field>
      </section>

      <div className="sticky bottom-0 -mx-4 flex justify-end gap-2 border-t border-slate-200 bg-slate-50/90 px-4 py-3 backdrop-blur lg:mx-0 lg:rounded-xl lg:border dark:border-slate-800 dark:bg-slate-950/90">
        <button type="button" className="btn-secondary" onClick={() => navigate(-1)}>
          {t('common.cancel')}
        </button>
        <button type="submit" className="btn-primary" disabled={isSubmitting} data-testid="save-vps">
          {id ? t('common.save') : t('vpsForm.create')}
        </button>
      </div>
    </form>
  );
}
