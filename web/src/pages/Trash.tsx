import { useState } from 'react';
import { Link } from 'react-router';
import { ArchiveRestore, Trash2 } from 'lucide-react';
import { useVpsAction, useVpsList, vpsActions } from '../api/hooks';
import type { Vps, VpsListQuery } from '../api/types';
import { StatusBadge } from '../components/badges';
import { ConfirmDialog } from '../components/Dialog';
import { IpList } from '../components/IpList';
import { Pagination } from '../components/Pagination';
import { EmptyState, ErrorState, Loading, PageHeader } from '../components/states';
import { useI18n } from '../i18n';
import { formatDateTime } from '../lib/format';
import { DEFAULT_PER_PAGE } from '../lib/vpsQuery';
import { useUrlVpsQuery } from './VpsList';

const FIXED: Partial<VpsListQuery> = { deleted: true };

/** VPS in the trash: restore them, or remove them for good. */
export default function Trash() {
  const { t, locale } = useI18n();
  const { query, update } = useUrlVpsQuery(FIXED);
  const page = query.page ?? 1;
  const list = useVpsList({ ...query, page, per_page: DEFAULT_PER_PAGE, sort: 'created_at', order: 'desc' });
  const restore = useVpsAction(vpsActions.restore);
  const purge = useVpsAction(vpsActions.purge);
  const [purging, setPurging] = useState<Vps | null>(null);
  const [error, setError] = useState<string | null>(null);
  const rows = list.data?.data ?? [];

  const act = async (fn: () => Promise<unknown>) => {
    setError(null);
    try {
      await fn();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };

  return (
    <>
      <PageHeader title={t('trash.title')} subtitle={t('trash.subtitle')} />
      {error && (
        <div role="alert" className="mb-4 rounded-xl border border-rose-200 bg-rose-50 px-4 py-3 text-sm text-rose-800 dark:border-rose-500/30 dark:bg-rose-500/10 dark:text-rose-200">
          {error}
        </div>
      )}
      <div className="card overflow-hidden">
        {list.isPending ? (
          <Loading />
        ) : list.isError ? (
          <ErrorState error={list.error} onRetry={() => void list.refetch()} />
        ) : rows.length === 0 ? (
          <EmptyState title={t('trash.emptyTitle')} body={t('trash.emptyBody')} />
        ) : (
          <>
            <ul className="divide-y divide-slate-100 dark:divide-slate-800">
              {rows.map((v) => (
                <li key={v.id} className="flex flex-wrap items-center gap-x-6 gap-y-2 px-5 py-4" data-testid="trash-row">
                  <div className="min-w-[12rem] flex-1">
                    <div className="flex items-center gap-2">
                      <Link to={`/vps/${v.id}`} className="font-medium text-indigo-700 hover:underline dark:text-indigo-300">
                        {v.hostname}
                      </Link>
                      <StatusBadge status={v.status} />
                    </div>
                    <p className="mt-0.5 text-xs text-slate-500">
                      {v.provider_name} {'·'} {t('trash.deletedAt', { when: formatDateTime(v.deleted_at, locale) })}
                    </p>
                  </div>
                  <IpList ips={v.ip_addresses} />
                  <div className="flex gap-2">
                    <button type="button" className="btn-secondary" onClick={() => void act(() => restore.mutateAsync(v.id))} disabled={restore.isPending}>
                      <ArchiveRestore className="size-4" aria-hidden="true" />
                      {t('trash.restore')}
                    </button>
                    <button type="button" className="btn-ghost text-rose-600" onClick={() => setPurging(v)}>
                      <Trash2 className="size-4" aria-hidden="true" />
                      {t('trash.purge')}
                    </button>
                  </div>
                </li>
              ))}
            </ul>
            <div className="border-t border-slate-200 dark:border-slate-800">
              <Pagination page={page} perPage={DEFAULT_PER_PAGE} total={list.data.total} onPage={(p) => update({ page: p })} />
            </div>
          </>
        )}
      </div>
      <ConfirmDialog
        open={purging !== null}
        title={t('trash.purgeTitle', { hostname: purging?.hostname ?? '' })}
        body={t('trash.purgeBody')}
        confirm={t('trash.purge')}
        danger
        busy={purge.isPending}
        onClose={() => setPurging(null)}
        onConfirm={async () => {
          const v = purging;
          setPurging(null);
          if (v) await act(() => purge.mutateAsync(v.id));
        }}
      />
    </>
  );
}
