import { useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { Search } from 'lucide-react';
import { useIpHistory } from '../api/hooks';
import { EmptyState, ErrorState, Loading, PageHeader } from '../components/states';
import { useI18n } from '../i18n';
import { formatDateTime } from '../lib/format';

/** Which VPS held an address, and when. */
export default function IpHistory() {
  const { t, locale } = useI18n();
  const [params, setParams] = useSearchParams();
  const ip = params.get('ip') ?? '';
  const [draft, setDraft] = useState(ip);
  const history = useIpHistory(ip);

  return (
    <>
      <PageHeader title={t('ipHistory.title')} subtitle={t('ipHistory.subtitle')} />
      <form
        className="mb-4 flex max-w-lg gap-2"
        onSubmit={(e) => {
          e.preventDefault();
          setParams(draft.trim() ? { ip: draft.trim() } : {});
        }}
      >
        <label htmlFor="ip-lookup" className="sr-only">
          {t('filters.ip')}
        </label>
        <input id="ip-lookup" className="input font-mono" value={draft} onChange={(e) => setDraft(e.target.value)} placeholder={t('ipHistory.placeholder')} />
        <button type="submit" className="btn-primary">
          <Search className="size-4" aria-hidden="true" />
          {t('ipHistory.lookUp')}
        </button>
      </form>
      <div className="card overflow-hidden">
        {!ip ? (
          <EmptyState title={t('ipHistory.startTitle')} body={t('ipHistory.startBody')} />
        ) : history.isPending ? (
          <Loading rows={3} />
        ) : history.isError ? (
          <ErrorState error={history.error} />
        ) : history.data.length === 0 ? (
          <EmptyState title={t('ipHistory.none', { ip })} />
        ) : (
          <div className="overflow-x-auto">
            <table className="min-w-full text-sm">
              <thead className="bg-slate-50 text-left text-xs uppercase tracking-wide text-slate-500 dark:bg-slate-800/50">
                <tr>
                  <th scope="col" className="px-4 py-2.5 font-medium">{t('detail.address')}</th>
                  <th scope="col" className="px-4 py-2.5 font-medium">{t('vps.hostname')}</th>
                  <th scope="col" className="px-4 py-2.5 font-medium">{t('detail.assigned')}</th>
                  <th scope="col" className="px-4 py-2.5 font-medium">{t('detail.released')}</th>
                </tr>
              </thead>
              <tbody className="divide-y divide-slate-100 dark:divide-slate-800">
                {history.data.map((h) => (
                  <tr key={`${h.vps_id}-${h.assigned_at}`}>
                    <td className="px-4 py-2.5 font-mono text-xs">{h.ip}</td>
                    <td className="px-4 py-2.5">
                      <Link to={`/vps/${h.vps_id}`} className="text-indigo-700 hover:underline dark:text-indigo-300">
                        {h.hostname}
                      </Link>
                    </td>
                    <td className="px-4 py-2.5">{formatDateTime(h.assigned_at, locale)}</td>
                    <td className="px-4 py-2.5">
                      {h.released_at ? formatDateTime(h.released_at, locale) : <span className="font-medium text-emerald-600 dark:text-emerald-400">{t('detail.current')}</span>}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </div>
    </>
  );
}
