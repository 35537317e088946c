import { useEffect, useMemo, useRef, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { Archive, Plus, Tag, X } from 'lucide-react';
import { useBulkVpsAction, useVpsList, vpsActions } from '../api/hooks';
import type { SortOrder, Vps, VpsListQuery, VpsSort } from '../api/types';
import { AgentDot, ExpiryBadge, StatusBadge } from '../components/badges';
import { ConfirmDialog, Dialog } from '../components/Dialog';
import { IpList } from '../components/IpList';
import { Pagination } from '../components/Pagination';
import { SortHeader } from '../components/SortHeader';
import { EmptyState, ErrorState, Loading, PageHeader } from '../components/states';
import { TagsInput } from '../components/TagsInput';
import { VpsFilters } from '../components/VpsFilters';
import { useI18n } from '../i18n';
import { flag, formatMoney } from '../lib/format';
import { activeFilterCount, DEFAULT_PER_PAGE, parseVpsQuery, vpsQueryToSearch } from '../lib/vpsQuery';

/** The list's query, kept in the page URL. */
export function useUrlVpsQuery(fixed: Partial<VpsListQuery> = {}) {
  const [search, setSearch] = useSearchParams();
  const query = useMemo(() => ({ ...parseVpsQuery(search), ...fixed }), [search, fixed]);
  // The URL as last written: the router renders its changes in a transition,
  // so two changes in a row (typing, then a click) must not start from the
  // URL of the last render, or the first would be lost.
  const latest = useRef(search);
  useEffect(() => {
    latest.current = search;
  }, [search]);
  const update = (patch: Partial<VpsListQuery>) => {
    // A new filter starts again from page 1.
    const resetPage = Object.keys(patch).some((k) => k !== 'page');
    const next = { ...parseVpsQuery(latest.current), ...patch, ...(resetPage ? { page: undefined } : {}) };
    for (const k of Object.keys(fixed) as (keyof VpsListQuery)[]) delete next[k];
    latest.current = vpsQueryToSearch(next);
    setSearch(latest.current);
  };
  return { query, update };
}

export default function VpsList() {
  const { t, locale } = useI18n();
  const { query, update } = useUrlVpsQuery();
  const page = query.page ?? 1;
  const perPage = query.per_page ?? DEFAULT_PER_PAGE;
  const sort: VpsSort = query.sort ?? 'created_at';
  const order: SortOrder = query.order ?? 'asc';
  const list = useVpsList({ ...query, page, per_page: perPage });
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [confirmRetire, setConfirmRetire] = useState(false);
  const [tagging, setTagging] = useState(false);
  const [newTags, setNewTags] = useState<string[]>([]);
  const [failures, setFailures] = useState<{ id: string; error: Error }[]>([]);
  const bulk = useBulkVpsAction();

  const rows = list.data?.data ?? [];
  const selectedRows = rows.filter((v) => selected.has(v.id));
  const allOnPage = rows.length > 0 && rows.every((v) => selected.has(v.id));
  const toggle = (id: string) =>
    setSelected((s) => {
      const n = new Set(s);
      if (n.has(id)) n.delete(id);
      else n.add(id);
      return n;
    });
  const toggleAll = () => setSelected(allOnPage ? new Set() : new Set(rows.map((v) => v.id)));
  const onSort = (field: VpsSort, o: SortOrder) => update({ sort: field, order: o });

  const runBulk = async (run: (v: Vps) => Promise<unknown>) => {
    const byId = new Map(selectedRows.map((v) => [v.id, v]));
    const failed = await bulk.mutateAsync({ ids: [...byId.keys()], run: (id) => run(byId.get(id)!) });
    setFailures(failed);
    setSelected(new Set(failed.map((f) => f.id)));
  };

  const hostnameOf = (id: string) => rows.find((v) => v.id === id)?.hostname ?? id;

  return (
    <>
      <PageHeader
        title={t('vps.title')}
        subtitle={list.data ? t('vps.count', { n: list.data.total.toLocaleString(locale) }) : undefined}
        actions={
          <Link className="btn-primary" to="/vps/new">
            <Plus className="size-4" aria-hidden="true" />
            {t('vps.add')}
          </Link>
        }
      />
      <VpsFilters query={query} onChange={update} />

      {selected.size > 0 && (
        <div className="sticky top-16 z-20 mb-3 flex flex-wrap items-center gap-2 rounded-xl bg-indigo-600 px-4 py-2.5 text-sm text-white shadow-lg" data-testid="bulk-bar">
          <span className="font-medium">{t('vps.selected', { n: selected.size })}</span>
          <span className="flex-1" />
          <button type="button" className="btn bg-white/15 text-white hover:bg-white/25" onClick={() => setTagging(true)}>
            <Tag className="size-4" aria-hidden="true" />
            {t('vps.addTags')}
          </button>
          <button type="button" className="btn bg-white/15 text-white hover:bg-white/25" onClick={() => setConfirmRetire(true)} data-testid="bulk-retire">
            <Archive className="size-4" aria-hidden="true" />
            {t('vps.retire')}
          </button>
          <button type="button" className="btn px-2 text-white hover:bg-white/15" onClick={() => setSelected(new Set())} aria-label={t('vps.clearSelection')}>
            <X className="size-4" aria-hidden="true" />
          </button>
        </div>
      )}
      {failures.length > 0 && (
        <div role="alert" className="mb-3 rounded-xl border border-rose-200 bg-rose-50 px-4 py-3 text-sm text-rose-800 dark:border-rose-500/30 dark:bg-rose-500/10 dark:text-rose-200">
          <p className="font-medium">{t('vps.bulkFailed', { n: failures.length })}</p>
          <ul className="mt-1 list-inside list-disc">
            {failures.map((f) => (
              <li key={f.id}>
                {hostnameOf(f.id)}
                {': '}
                {f.error.message}
              </li>
            ))}
          </ul>
        </div>
      )}

      <div className="card overflow-hidden">
        {list.isPending ? (
          <Loading />
        ) : list.isError ? (
          <ErrorState error={list.error} onRetry={() => void list.refetch()} />
        ) : rows.length === 0 ? (
          activeFilterCount(query) > 0 ? (
            <EmptyState title={t('vps.noMatchTitle')} body={t('vps.noMatchBody')} />
          ) : (
            <EmptyState
              title={t('vps.emptyTitle')}
              body={t('vps.emptyBody')}
              action={
                <Link className="btn-primary" to="/vps/new">
                  <Plus className="size-4" aria-hidden="true" />
                  {t('vps.add')}
                </Link>
              }
            />
          )
        ) : (
          <>
            {/* Phones: one card per VPS. */}
            <ul className="divide-y divide-slate-200 md:hidden dark:divide-slate-800" data-testid="vps-cards">
              {rows.map((v) => (
                <li key={v.id} className="flex gap-3 p-4">
                  <input
                    type="checkbox"
                    className="mt-1 size-4"
                    checked={selected.has(v.id)}
                    onChange={() => toggle(v.id)}
                    aria-label={t('vps.select', { name: v.hostname })}
                  />
                  <div className="min-w-0 flex-1 space-y-1.5">
                    <div className="flex items-center gap-2">
                      <AgentDot status={v.agent?.status} />
                      <Link to={`/vps/${v.id}`} className="truncate font-medium text-indigo-700 hover:underline dark:text-indigo-300">
                        {v.hostname}
                      </Link>
                      <span className="flex-1" />
                      <StatusBadge status={v.status} />
                    </div>
                    <p className="text-xs text-slate-500 dark:text-slate-400">
                      {flag(v.country)} {v.country} {'·'} {v.provider_name} {'·'} {formatMoney(v.monthly_cost, v.currency, locale)}
                      {t('vps.perMonth')}
                    </p>
                    <IpList ips={v.ip_addresses} />
                    <ExpiryBadge date={v.expire_date} />
                  </div>
                </li>
              ))}
            </ul>
            {/* Wider screens: a table. */}
            <div className="hidden overflow-x-auto md:block">
              <table className="min-w-full text-sm" data-testid="vps-table">
                <thead className="bg-slate-50 text-left text-xs uppercase tracking-wide text-slate-500 dark:bg-slate-800/50 dark:text-slate-400">
                  <tr>
                    <th scope="col" className="w-10 px-3 py-2.5">
                      <input type="checkbox" className="size-4" checked={allOnPage} onChange={toggleAll} aria-label={t('vps.selectAll')} />
                    </th>
                    <SortHeader label={t('vps.hostname')} field="hostname" sort={sort} order={order} onSort={onSort} />
                    <SortHeader label={t('vps.status')} field="status" sort={sort} order={order} onSort={onSort} />
                    <th scope="col" className="px-3 py-2.5 font-medium">{t('vps.provider')}</th>
                    <SortHeader label={t('vps.country')} field="country" sort={sort} order={order} onSort={onSort} />
                    <th scope="col" className="px-3 py-2.5 font-medium">{t('vps.ips')}</th>
                    <SortHeader label={t('vps.expires')} field="expire_date" sort={sort} order={order} onSort={onSort} />
                    <SortHeader label={t('vps.monthlyCost')} field="monthly_cost" sort={sort} order={order} onSort={onSort} className="text-right" />
                    <th scope="col" className="px-3 py-2.5 font-medium">{t('vps.tags')}</th>
                  </tr>
                </thead>
                <tbody className="divide-y divide-slate-100 dark:divide-slate-800">
                  {rows.map((v) => (
                    <tr key={v.id} className={`align-top hover:bg-slate-50 dark:hover:bg-slate-800/40 ${selected.has(v.id) ? 'bg-indigo-50/60 dark:bg-indigo-500/10' : ''}`} data-testid="vps-row">
                      <td className="px-3 py-3">
                        <input
                          type="checkbox"
                          className="size-4"
                          checked={selected.has(v.id)}
                          onChange={() => toggle(v.id)}
                          aria-label={t('vps.select', { name: v.hostname })}
                        />
                      </td>
                      <td className="px-3 py-3">
                        <div className="flex items-center gap-2">
                          <AgentDot status={v.agent?.status} />
                          <Link to={`/vps/${v.id}`} className="font-medium text-indigo-700 hover:underline dark:text-indigo-300">
                            {v.hostname}
                          </Link>
                        </div>
                        {v.alias && <p className="pl-4.5 text-xs text-slate-500">{v.alias}</p>}
                      </td>
                      <td className="px-3 py-3">
                        <StatusBadge status={v.status} />
                      </td>
                      <td className="px-3 py-3 text-slate-600 dark:text-slate-300">{v.provider_name}</td>
                      <td className="whitespace-nowrap px-3 py-3">
                        {flag(v.country)} {v.country}
                      </td>
                      <td className="px-3 py-3">
                        <IpList ips={v.ip_addresses} />
                      </td>
                      <td className="px-3 py-3">
                        <ExpiryBadge date={v.expire_date} />
                      </td>
                      <td className="whitespace-nowrap px-3 py-3 text-right tabular-nums">{formatMoney(v.monthly_cost, v.currency, locale)}</td>
                      <td className="px-3 py-3">
                        <div className="flex flex-wrap gap-1">
                          {v.tags.map((tag) => (
                            <button
                              key={tag}
                              type="button"
                              className="rounded bg-slate-100 px-1.5 py-0.5 text-xs text-slate-600 hover:bg-indigo-100 dark:bg-slate-800 dark:text-slate-300"
                              onClick={() => update({ tag: [...new Set([...(query.tag ?? []), tag])] })}
                              title={t('vps.filterByTag', { tag })}
                            >
                              {tag}
                            </button>
                          ))}
                        </div>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <div className="border-t border-slate-200 dark:border-slate-800">
              <Pagination page={page} perPage={perPage} total={list.data.total} onPage={(p) => update({ page: p })} />
            </div>
          </>
        )}
      </div>

      <ConfirmDialog
        open={confirmRetire}
        title={t('vps.retireTitle', { n: selected.size })}
        body={t('vps.retireBody')}
        confirm={t('vps.retire')}
        danger
        busy={bulk.isPending}
        onClose={() => setConfirmRetire(false)}
        onConfirm={async () => {
          await runBulk((v) => vpsActions.retire(v.id));
          setConfirmRetire(false);
        }}
      />
      <Dialog
        open={tagging}
        title={t('vps.addTagsTitle', { n: selected.size })}
        onClose={() => setTagging(false)}
        footer={
          <>
            <button type="button" className="btn-secondary" onClick={() => setTagging(false)}>
              {t('common.cancel')}
            </button>
            <button
              type="button"
              className="btn-primary"
              disabled={newTags.length === 0 || bulk.isPending}
              onClick={async () => {
                await runBulk((v) => vpsActions.addTags(v, newTags));
                setNewTags([]);
                setTagging(false);
              }}
            >
              {t('vps.addTags')}
            </button>
          </>
        }
      >
        <label htmlFor="bulk-tags" className="label">
          {t('vps.tags')}
        </label>
        <TagsInput id="bulk-tags" value={newTags} onChange={setNewTags} placeholder={t('vps.tagsPlaceholder')} />
      </Dialog>
    </>
  );
}
