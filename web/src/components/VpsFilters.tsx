import { useEffect, useState, type ReactNode } from 'react';
import { FilterX, Search } from 'lucide-react';
import { PURPOSES, VPS_STATUSES } from '../api/enums';
import { useProviders } from '../api/hooks';
import type { VpsListQuery } from '../api/types';
import { useI18n } from '../i18n';
import { activeFilterCount } from '../lib/vpsQuery';
import { useDebounced } from '../lib/useDebounced';

/** A text filter that applies on Enter or when it loses focus. */
function TextFilter({
  label,
  value,
  onCommit,
  placeholder,
  name,
}: {
  label: string;
  value: string | undefined;
  onCommit: (v: string | undefined) => void;
  placeholder?: string;
  name: string;
}) {
  const [draft, setDraft] = useState(value ?? '');
  // The URL changed (back button, a link): show its value.
  const [shown, setShown] = useState(value);
  if (shown !== value) {
    setShown(value);
    setDraft(value ?? '');
  }
  const commit = () => {
    const v = draft.trim() || undefined;
    if (v !== value) onCommit(v);
  };
  return (
    <Labelled label={label} htmlFor={`filter-${name}`}>
      <input
        id={`filter-${name}`}
        name={name}
        className="input"
        value={draft}
        placeholder={placeholder}
        onChange={(e) => setDraft(e.target.value)}
        onBlur={commit}
        onKeyDown={(e) => e.key === 'Enter' && commit()}
      />
    </Labelled>
  );
}

function Labelled({ label, htmlFor, children }: { label: string; htmlFor: string; children: ReactNode }) {
  return (
    <div>
      <label htmlFor={htmlFor} className="mb-1 block text-xs font-medium text-slate-500 dark:text-slate-400">
        {label}
      </label>
      {children}
    </div>
  );
}

export function VpsFilters({
  query,
  onChange,
  showStatus = true,
}: {
  query: VpsListQuery;
  onChange: (patch: Partial<VpsListQuery>) => void;
  showStatus?: boolean;
}) {
  const { t } = useI18n();
  const providers = useProviders();
  const [search, setSearch] = useState(query.q ?? '');
  const debounced = useDebounced(search, 350);
  useEffect(() => {
    const v = debounced.trim() || undefined;
    if (v !== query.q) onChange({ q: v });
    // Only the typed text drives this; the URL drives `search` below.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [debounced]);
  const [shownQ, setShownQ] = useState(query.q);
  if (shownQ !== query.q) {
    setShownQ(query.q);
    if ((search.trim() || undefined) !== query.q) setSearch(query.q ?? '');
  }

  const statuses = query.status ?? [];
  const toggleStatus = (s: (typeof VPS_STATUSES)[number]) => {
    const next = statuses.includes(s) ? statuses.filter((x) => x !== s) : [...statuses, s];
    onChange({ status: next.length ? next : undefined });
  };
  const count = activeFilterCount(query);

  return (
    <div className="card mb-4 space-y-4 p-4" data-testid="vps-filters">
      <div className="flex flex-wrap items-center gap-3">
        <div className="relative min-w-[14rem] flex-1">
          <label htmlFor="filter-q" className="sr-only">
            {t('filters.search')}
          </label>
          <Search className="pointer-events-none absolute left-3 top-1/2 size-4 -translate-y-1/2 text-slate-400" aria-hidden="true" />
          <input
            id="filter-q"
            type="search"
            className="input pl-9"
            placeholder={t('filters.searchPlaceholder')}
            value={search}
            onChange={(e) => setSearch(e.target.value)}
          />
        </div>
        {count > 0 && (
          <button
            type="button"
            className="btn-ghost"
            onClick={() =>
              onChange({
                q: undefined,
                status: undefined,
                country: undefined,
                provider_id: undefined,
                purpose: undefined,
                tag: undefined,
                ip: undefined,
                expiring_within_days: undefined,
                monitoring_enabled: undefined,
              })
            }
          >
            <FilterX className="size-4" aria-hidden="true" />
            {t('filters.clear', { n: count })}
          </button>
        )}
      </div>
      {showStatus && (
        <fieldset>
          <legend className="mb-1.5 text-xs font-medium text-slate-500 dark:text-slate-400">{t('vps.status')}</legend>
          <div className="flex flex-wrap gap-2">
            {VPS_STATUSES.map((s) => {
              const on = statuses.includes(s);
              return (
                <button
                  key={s}
                  type="button"
                  aria-pressed={on}
                  onClick={() => toggleStatus(s)}
                  data-testid={`status-filter-${s}`}
                  className={`rounded-full px-3 py-1 text-xs font-medium ring-1 ring-inset transition-colors ${
                    on
                      ? 'bg-indigo-600 text-white ring-indigo-600'
                      : 'bg-white text-slate-600 ring-slate-300 hover:bg-slate-50 dark:bg-slate-900 dark:text-slate-300 dark:ring-slate-700 dark:hover:bg-slate-800'
                  }`}
                >
                  {t(`status.${s}`)}
                </button>
              );
            })}
          </div>
        </fieldset>
      )}
      <div className="grid grid-cols-2 gap-3 md:grid-cols-4 xl:grid-cols-7">
        <Labelled label={t('vps.provider')} htmlFor="filter-provider">
          <select
            id="filter-provider"
            className="input"
            value={query.provider_id ?? ''}
            onChange={(e) => onChange({ provider_id: e.target.value || undefined })}
          >
            <option value="">{t('filters.any')}</option>
            {providers.data?.data.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
        </Labelled>
        <TextFilter label={t('vps.country')} name="country" value={query.country} placeholder={t('filters.countryPlaceholder')} onCommit={(v) => onChange({ country: v?.toUpperCase() })} />
        <Labelled label={t('vps.purpose')} htmlFor="filter-purpose">
          <select
            id="filter-purpose"
            className="input"
            value={query.purpose ?? ''}
            onChange={(e) => onChange({ purpose: (e.target.value || undefined) as VpsListQuery['purpose'] })}
          >
            <option value="">{t('filters.any')}</option>
            {PURPOSES.map((p) => (
              <option key={p} value={p}>
                {t(`purpose.${p}`)}
              </option>
            ))}
          </select>
        </Labelled>
        <TextFilter
          label={t('vps.tags')}
          name="tag"
          value={query.tag?.join(', ')}
          placeholder={t('filters.tagPlaceholder')}
          onCommit={(v) => {
            const tags = v?.split(/[,\s]+/).map((s) => s.trim().toLowerCase()).filter(Boolean);
            onChange({ tag: tags?.length ? tags : undefined });
          }}
        />
        <TextFilter label={t('filters.ip')} name="ip" value={query.ip} placeholder={t('filters.ipPlaceholder')} onCommit={(v) => onChange({ ip: v })} />
        <Labelled label={t('filters.expiring')} htmlFor="filter-expiring">
          <select
            id="filter-expiring"
            className="input"
            value={query.expiring_within_days ?? ''}
            onChange={(e) => onChange({ expiring_within_days: e.target.value === '' ? undefined : Number(e.target.value) })}
          >
            <option value="">{t('filters.any')}</option>
            {[0, 7, 14, 30, 60].map((d) => (
              <option key={d} value={d}>
                {d === 0 ? t('filters.expiredOrToday') : t('filters.withinDays', { n: d })}
              </option>
            ))}
          </select>
        </Labelled>
        <Labelled label={t('vps.monitoring')} htmlFor="filter-monitoring">
          <select
            id="filter-monitoring"
            className="input"
            value={query.monitoring_enabled === undefined ? '' : String(query.monitoring_enabled)}
            onChange={(e) => onChange({ monitoring_enabled: e.target.value === '' ? undefined : e.target.value === 'true' })}
          >
            <option value="">{t('filters.any')}</option>
            <option value="true">{t('common.on')}</option>
            <option value="false">{t('common.off')}</option>
          </select>
        </Labelled>
      </div>
    </div>
  );
}
