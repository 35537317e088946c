import { lazy, Suspense, type ComponentType, type ReactNode } from 'react';
import { Link } from 'react-router';
import { AlarmClock, Archive, Building2, CalendarClock, Plus, Radio, Server, Wallet } from 'lucide-react';
import { useStats } from '../api/hooks';
import { EmptyState, ErrorState, Loading, PageHeader } from '../components/states';
import { useI18n } from '../i18n';
import { formatMoney, formatNumber } from '../lib/format';

// The chart library is the largest dependency: it loads after the cards.
const DashboardCharts = lazy(() => import('./DashboardCharts'));

function StatCard({
  label,
  value,
  icon: Icon,
  tone = 'slate',
  to,
  testId,
}: {
  label: string;
  value: ReactNode;
  icon: ComponentType<{ className?: string }>;
  tone?: 'slate' | 'amber' | 'rose' | 'emerald' | 'indigo';
  to?: string;
  testId?: string;
}) {
  const tones = {
    slate: 'bg-slate-100 text-slate-600 dark:bg-slate-800 dark:text-slate-300',
    amber: 'bg-amber-100 text-amber-700 dark:bg-amber-500/15 dark:text-amber-300',
    rose: 'bg-rose-100 text-rose-700 dark:bg-rose-500/15 dark:text-rose-300',
    emerald: 'bg-emerald-100 text-emerald-700 dark:bg-emerald-500/15 dark:text-emerald-300',
    indigo: 'bg-indigo-100 text-indigo-700 dark:bg-indigo-500/15 dark:text-indigo-300',
  };
  const body = (
    <div className="card flex h-full items-start gap-4 p-5 transition-shadow hover:shadow-md" data-testid={testId}>
      <span className={`grid size-10 shrink-0 place-items-center rounded-lg ${tones[tone]}`}>
        <Icon className="size-5" aria-hidden="true" />
      </span>
      <div className="min-w-0">
        <p className="text-sm text-slate-500 dark:text-slate-400">{label}</p>
        <div className="mt-1 text-2xl font-semibold tabular-nums tracking-tight">{value}</div>
      </div>
    </div>
  );
  return to ? (
    <Link to={to} className="block rounded-xl">
      {body}
    </Link>
  ) : (
    body
  );
}

export function Dashboard() {
  const { t, locale } = useI18n();
  const stats = useStats();

  if (stats.isPending) return <Loading rows={6} />;
  if (stats.isError) return <ErrorState error={stats.error} onRetry={() => void stats.refetch()} />;
  const s = stats.data;
  const n = (x: number) => formatNumber(x, locale);

  if (s.total_vps === 0 && s.retired_vps === 0) {
    return (
      <>
        <PageHeader title={t('dashboard.title')} />
        <div className="card">
          <EmptyState
            title={t('dashboard.emptyTitle')}
            body={s.total_providers === 0 ? t('dashboard.emptyNoProviders') : t('dashboard.emptyBody')}
            action={
              s.total_providers === 0 ? (
                <Link className="btn-primary" to="/providers?new=1">
                  <Plus className="size-4" aria-hidden="true" />
                  {t('providers.add')}
                </Link>
              ) : (
                <Link className="btn-primary" to="/vps/new">
                  <Plus className="size-4" aria-hidden="true" />
                  {t('vps.add')}
                </Link>
              )
            }
          />
        </div>
      </>
    );
  }

  return (
    <>
      <PageHeader
        title={t('dashboard.title')}
        subtitle={t('dashboard.subtitle')}
        actions={
          <Link className="btn-primary" to="/vps/new">
            <Plus className="size-4" aria-hidden="true" />
            {t('vps.add')}
          </Link>
        }
      />
      <div className="grid grid-cols-1 gap-4 sm:grid-cols-2 xl:grid-cols-4">
        <StatCard label={t('dashboard.liveVps')} value={n(s.total_vps)} icon={Server} tone="indigo" to="/vps" testId="stat-total" />
        <StatCard
          label={t('dashboard.expiring7')}
          value={n(s.expiring_7d)}
          icon={AlarmClock}
          tone={s.expiring_7d > 0 ? 'rose' : 'slate'}
          to="/vps?expiring_within_days=7&sort=expire_date"
          testId="stat-expiring-7"
        />
        <StatCard
          label={t('dashboard.expiring30')}
          value={n(s.expiring_30d)}
          icon={CalendarClock}
          tone={s.expiring_30d > 0 ? 'amber' : 'slate'}
          to="/vps?expiring_within_days=30&sort=expire_date"
        />
        <StatCard label={t('dashboard.providers')} value={n(s.total_providers)} icon={Building2} to="/providers" />
        <StatCard
          label={t('dashboard.monthlyCost')}
          icon={Wallet}
          tone="emerald"
          value={
            s.monthly_cost.length === 0 ? (
              <span className="text-slate-400">{t('common.none')}</span>
            ) : (
              <ul className="space-y-0.5 text-xl">
                {s.monthly_cost.map((c) => (
                  <li key={c.currency}>{formatMoney(c.amount, c.currency, locale)}</li>
                ))}
              </ul>
            )
          }
        />
        <StatCard label={t('dashboard.retired')} value={n(s.retired_vps)} icon={Archive} to="/vps?status=retired" />
        <StatCard
          label={t('dashboard.agents')}
          icon={Radio}
          value={
            <span className="flex flex-wrap items-baseline gap-x-3 gap-y-1 text-base font-medium">
              <span className="text-emerald-600 dark:text-emerald-400">{t('dashboard.agentsOnline', { n: n(s.agents.online) })}</span>
              <span className="text-rose-600 dark:text-rose-400">{t('dashboard.agentsOffline', { n: n(s.agents.offline) })}</span>
              <span className="text-amber-600 dark:text-amber-400">{t('dashboard.agentsPending', { n: n(s.agents.pending) })}</span>
            </span>
          }
        />
      </div>
      <Suspense fallback={<Loading rows={4} />}>
        <DashboardCharts stats={s} />
      </Suspense>
    </>
  );
}
