import { ChevronLeft, ChevronRight } from 'lucide-react';
import { useI18n } from '../i18n';

export function Pagination({
  page,
  perPage,
  total,
  onPage,
}: {
  page: number;
  perPage: number;
  total: number;
  onPage: (page: number) => void;
}) {
  const { t, locale } = useI18n();
  const pages = Math.max(1, Math.ceil(total / perPage));
  const from = total === 0 ? 0 : (page - 1) * perPage + 1;
  const to = Math.min(total, page * perPage);
  const n = (x: number) => x.toLocaleString(locale);
  return (
    <nav className="flex items-center justify-between gap-3 px-4 py-3 text-sm" aria-label={t('pagination.label')}>
      <p className="text-slate-500 dark:text-slate-400">{t('pagination.showing', { from: n(from), to: n(to), total: n(total) })}</p>
      <div className="flex items-center gap-2">
        <button type="button" className="btn-secondary px-2" disabled={page <= 1} onClick={() => onPage(page - 1)} aria-label={t('pagination.previous')}>
          <ChevronLeft className="size-4" aria-hidden="true" />
        </button>
        <span className="tabular-nums text-slate-600 dark:text-slate-300">{t('pagination.page', { page: n(page), pages: n(pages) })}</span>
        <button type="button" className="btn-secondary px-2" disabled={page >= pages} onClick={() => onPage(page + 1)} aria-label={t('pagination.next')}>
          <ChevronRight className="size-4" aria-hidden="true" />
        </button>
      </div>
    </nav>
  );
}
