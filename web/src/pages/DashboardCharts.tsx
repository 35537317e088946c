import type { ReactNode } from 'react';
import { useNavigate } from 'react-router';
import { Bar, BarChart, Cell, Pie, PieChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { PURPOSES, VPS_STATUSES } from '../api/enums';
import type { Stats } from '../api/types';
import { STATUS_CHART_COLOURS } from '../components/badges';
import { useI18n } from '../i18n';
import { countryName, flag } from '../lib/format';
import { useTheme } from '../theme/theme';

const PALETTE = ['#6366f1', '#0ea5e9', '#10b981', '#f59e0b', '#f43f5e', '#8b5cf6', '#14b8a6', '#ec4899', '#84cc16', '#64748b'];

function ChartCard({ title, children, empty }: { title: string; children: ReactNode; empty: boolean }) {
  const { t } = useI18n();
  return (
    <section className="card p-5">
      <h2 className="mb-4 text-sm font-semibold text-slate-700 dark:text-slate-200">{title}</h2>
      {empty ? <p className="py-16 text-center text-sm text-slate-400">{t('dashboard.noData')}</p> : <div className="h-64">{children}</div>}
    </section>
  );
}

interface Row {
  key: string;
  name: string;
  value: number;
  colour: string;
}

/** Fleet breakdowns; a click on a bar opens the VPS list filtered to it. */
export default function DashboardCharts({ stats }: { stats: Stats }) {
  const { t, locale } = useI18n();
  const { theme } = useTheme();
  const navigate = useNavigate();
  const axis = theme === 'dark' ? '#94a3b8' : '#64748b';
  const tooltip = {
    contentStyle: {
      background: theme === 'dark' ? '#0f172a' : '#fff',
      border: `1px solid ${theme === 'dark' ? '#334155' : '#e2e8f0'}`,
      borderRadius: 8,
      fontSize: 13,
    },
    cursor: { fill: theme === 'dark' ? '#1e293b' : '#f1f5f9' },
  };

  const byStatus: Row[] = VPS_STATUSES.map((s) => ({
    key: s,
    name: t(`status.${s}`),
    value: stats.by_status[s] ?? 0,
    colour: STATUS_CHART_COLOURS[s],
  })).filter((r) => r.value > 0);
  const byCountry: Row[] = Object.entries(stats.by_country)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 10)
    .map(([code, value], i) => ({ key: code, name: `${flag(code)} ${countryName(code, locale)}`, value, colour: PALETTE[i % PALETTE.length]! }));
  const byProvider: Row[] = stats.by_provider
    .slice(0, 10)
    .map((p, i) => ({ key: p.provider_id, name: p.provider_name, value: p.count, colour: PALETTE[i % PALETTE.length]! }));
  const byPurpose: Row[] = PURPOSES.map((p, i) => ({
    key: p,
    name: t(`purpose.${p}`),
    value: stats.by_purpose[p] ?? 0,
    colour: PALETTE[i % PALETTE.length]!,
  })).filter((r) => r.value > 0);

  const bars = (rows: Row[], param: string) => (
    <ResponsiveContainer width="100%" height="100%">
      <BarChart data={rows} layout="vertical" margin={{ left: 8, right: 16 }}>
        <XAxis type="number" allowDecimals={false} stroke={axis} fontSize={12} />
        <YAxis type="category" dataKey="name" width={120} stroke={axis} fontSize={12} tickLine={false} />
        <Tooltip {...tooltip} formatter={(v) => [String(v), t('dashboard.vpsCount')]} />
        <Bar dataKey="value" radius={[0, 4, 4, 0]} cursor="pointer" isAnimationActive={false} onClick={(d) => navigate(`/vps?${param}=${encodeURIComponent((d.payload as Row).key)}`)}>
          {rows.map((r) => (
            <Cell key={r.key} fill={r.colour} />
          ))}
        </Bar>
      </BarChart>
    </ResponsiveContainer>
  );
  const donut = (rows: Row[], param: string) => (
    <ResponsiveContainer width="100%" height="100%">
      <PieChart margin={{ top: 12, bottom: 12 }}>
        <Pie
          data={rows}
          dataKey="value"
          nameKey="name"
          innerRadius="50%"
          outerRadius="76%"
          paddingAngle={2}
          isAnimationActive={false}
          cursor="pointer"
          onClick={(d) => navigate(`/vps?${param}=${encodeURIComponent((d.payload as Row).key)}`)}
          label={({ name, value }) => `${name} ${value}`}
          fontSize={12}
        >
          {rows.map((r) => (
            <Cell key={r.key} fill={r.colour} stroke="none" />
          ))}
        </Pie>
        <Tooltip {...tooltip} />
      </PieChart>
    </ResponsiveContainer>
  );

  return (
    <div className="mt-6 grid grid-cols-1 gap-4 lg:grid-cols-2" data-testid="dashboard-charts">
      <ChartCard title={t('dashboard.byStatus')} empty={byStatus.length === 0}>
        {donut(byStatus, 'status')}
      </ChartCard>
      <ChartCard title={t('dashboard.byPurpose')} empty={byPurpose.length === 0}>
        {donut(byPurpose, 'purpose')}
      </ChartCard>
      <ChartCard title={t('dashboard.byCountry')} empty={byCountry.length === 0}>
        {bars(byCountry, 'country')}
      </ChartCard>
      <ChartCard title={t('dashboard.byProvider')} empty={byProvider.length === 0}>
        {bars(byProvider, 'provider_id')}
      </ChartCard>
    </div>
  );
}
