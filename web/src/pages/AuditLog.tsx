import { useState } from 'react';
import { useSearchParams } from 'react-router';
import { FilterX } from 'lucide-react';
import { useAuditLog } from '../api/hooks';
import type { AuditQuery } from '../api/types';
import { AUDIT_ACTIONS, AUDIT_RESOURCES, AuditTrail, useAuditLabels } from '../components/AuditTrail';
import { Pagination } from '../components/Pagination';
import { EmptyState, ErrorState, Loading, PageHeader } from '../components/states';
import { useI18n } from '../i18n';

const PER_PAGE = 50;
const FILTERS = ['resource_type', 'action', 'actor', 'resource_id', 'from', 'to'] as const;
type Filter = (typeof FILTERS)[number];

/** A `YYYY-MM-DD` day as the RFC 3339 instant it starts (or, with
 *  `next`, the one after it ends) in this browser's time zone. */
export function dayBound(day: string, next = false): string | undefined {
  const d = new Date(`${day}T00:00:00`);
  if (Number.isNaN(d.getTime())) return undefined;
  if (next) d.setDate(d.getDate() + 1);
  return d.toISOString();
}

/** The audit log: every recorded change, filtered from the URL so a view
 *  can be bookmarked, each entry opening onto its before/after diff. */
export default function AuditLog() {
  const { t } = useI18n();
  const labels = useAuditLabels();
  const [params, setParams] = useSearchParams();
  const value = (k: Filter) => params.get(k) ?? '';
  const page = Math.max(1, Number(params.get('page')) || 1);
  const set = (patch: Partial<Record<Filter | 'page', string>>) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(patch)) {
      if (v) next.set(k, v);
      else next.delete(k);
    }
    if (!('page' in patch)) next.delete('page');
    setParams(next);
  };
  const query: AuditQuery = {
    resource_type: value('resource_type') || undefined,
    action: value('action') || undefined,
    actor: value('actor') || undefined,
    resource_id: value('resource_id') || undefined,
    from: value('from') ? dayBound(value('from')) : undefined,
    to: value('to') ? dayBound(value('to'), true) : undefined,
    page,
    per_page: PER_PAGE,
  };
  const log = useAuditLog(query);
  const active = FILTERS.filter((k) => value(k)).length;
  const [actor, setActor] = useState(value('actor'));
  const [shownActor, setShownActor] = useState(value('actor'));
  if (shownActor !== value('actor')) {
    setShownActor(value('actor'));
    setActor(value('actor'));
  }
  const commitActor = () => actor.trim() !== value('actor') && set({ actor: actor.trim() });
  const label = 'mb-1 block text-xs font-medium text-slate-500 dark:text-slate-400';

  return (
    <>
      <PageHeader title={t('audit.title')} subtitle={t('audit.subtitle')} />
      <div className="card mb-4 grid grid-cols-2 gap-3 p-4 md:grid-cols-3 xl:grid-cols-6" data-testid="audit-filters">
        <div>
          <label htmlFor="audit-resource" className={label}>{t('audit.resourceType')}</label>
          <select id="audit-resource" className="input" value={value('resource_type')} onChange={(e) => set({ resource_type: e.target.value })}>
            <option value="">{t('filters.any')}</option>
            {AUDIT_RESOURCES.map((r) => (
              <option key={r} value={r}>{labels.resource(r)}</option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor="audit-action" className={label}>{t('audit.actionLabel')}</label>
          <select id="audit-action" className="input" value={value('action')} onChange={(e) => set({ action: e.target.value })}>
            <option value="">{t('filters.any')}</option>
            {AUDIT_ACTIONS.map((a) => (
              <option key={a} value={a}>{labels.action(a)}</option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor="audit-actor" className={label}>{t('audit.actorLabel')}</label>
          <input
            id="audit-actor"
            className="input"
            value={actor}
            placeholder={t('audit.actorPlaceholder')}
            onChange={(e) => setActor(e.target.value)}
            onBlur={commitActor}
            onKeyDown={(e) => e.key === 'Enter' && commitActor()}
          />
        </div>
        <div>
          <label htmlFor="audit-from" className={label}>{t('audit.from')}</label>
          <input id="audit-from" type="date" className="input" value={value('from')} onChange={(e) => set({ from: e.target.value })} />
        </div>
        <div>
          <label htmlFor="audit-to" className={label}>{t('audit.to')}</label>
          <input id="audit-to" type="date" className="input" value={value('to')} onChange={(e) => set({ to: e.target.value })} />
        </div>
        <div className="flex items-end">
          <button type="button" className="btn-ghost" disabled={active === 0} onClick={() => setParams(new URLSearchParams())}>
            <FilterX className="size-4" aria-hidden="true" />
            {t('filters.clear', { n: active })}
          </button>
        </div>
      </div>
      <div className="card overflow-hidden">
        {log.isPending ? (
          <Loading />
        ) : log.isError ? (
          <ErrorState error={log.error} onRetry={() => void log.refetch()} />
        ) : log.data.data.length === 0 ? (
          <EmptyState title={active ? t('audit.noneMatching') : t('audit.emptyTitle')} body={active ? undefined : t('audit.emptyBody')} />
        ) : (
          <>
            <AuditTrail entries={log.data.data} />
            <div className="border-t border-slate-200 dark:border-slate-800">
              <Pagination page={page} perPage={PER_PAGE} total={log.data.total} onPage={(p) => set({ page: String(p) })} />
            </div>
          </>
        )}
      </div>
    </>
  );
}
