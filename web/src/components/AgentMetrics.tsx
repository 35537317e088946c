import type { Heartbeat } from '../api/types';
import { useI18n } from '../i18n';
import { formatBytes, formatNumber, formatUptime } from '../lib/format';

function Meter({ label, used, total, testId }: { label: string; used: number; total: number; testId?: string }) {
  const { locale } = useI18n();
  const pct = total > 0 ? Math.min(100, (used / total) * 100) : 0;
  return (
    <div data-testid={testId}>
      <div className="flex justify-between text-xs text-slate-500 dark:text-slate-400">
        <span>{label}</span>
        <span className="tabular-nums">
          {formatBytes(used, locale)} / {formatBytes(total, locale)}
        </span>
      </div>
      <div className="mt-1 h-1.5 rounded-full bg-slate-100 dark:bg-slate-800" aria-hidden="true">
        <div className={`h-1.5 rounded-full ${pct > 90 ? 'bg-rose-500' : pct > 75 ? 'bg-amber-500' : 'bg-emerald-500'}`} style={{ width: `${pct}%` }} />
      </div>
    </div>
  );
}

/** The latest heartbeat of an agent: load, memory, disks and listening ports. */
export function AgentMetrics({ metrics }: { metrics: Heartbeat }) {
  const { t, locale } = useI18n();
  const ports = metrics.ports ?? [];
  return (
    <div className="mt-4 space-y-4">
      <dl className="grid grid-cols-2 gap-3 text-sm sm:grid-cols-4">
        {metrics.cpu_percent !== undefined && (
          <div>
            <dt className="text-xs text-slate-500 dark:text-slate-400">{t('detail.cpu')}</dt>
            <dd className="font-semibold tabular-nums" data-testid="agent-cpu">{`${formatNumber(metrics.cpu_percent, locale)} %`}</dd>
          </div>
        )}
        {metrics.load && (
          <div>
            <dt className="text-xs text-slate-500 dark:text-slate-400">{t('detail.load')}</dt>
            <dd className="font-semibold tabular-nums">
              {[metrics.load.one, metrics.load.five, metrics.load.fifteen].map((l) => formatNumber(l, locale)).join(' · ')}
            </dd>
          </div>
        )}
        {metrics.cpu_cores !== undefined && (
          <div>
            <dt className="text-xs text-slate-500 dark:text-slate-400">{t('detail.cores')}</dt>
            <dd className="font-semibold tabular-nums">{metrics.cpu_cores}</dd>
          </div>
        )}
        {metrics.uptime_secs !== undefined && (
          <div>
            <dt className="text-xs text-slate-500 dark:text-slate-400">{t('detail.uptime')}</dt>
            <dd className="font-semibold tabular-nums">{formatUptime(metrics.uptime_secs)}</dd>
          </div>
        )}
      </dl>
      <div className="space-y-2">
        {metrics.memory && <Meter label={t('detail.memory')} used={metrics.memory.used_bytes} total={metrics.memory.total_bytes} testId="agent-memory" />}
        {(metrics.filesystems ?? []).map((fs) => (
          <Meter key={fs.mount} label={`${t('detail.disk')} ${fs.mount}`} used={fs.used_bytes} total={fs.total_bytes} />
        ))}
      </div>
      <div>
        <h3 className="mb-1 text-xs font-medium text-slate-500 dark:text-slate-400">{t('detail.ports')}</h3>
        {ports.length === 0 ? (
          <p className="text-sm text-slate-500 dark:text-slate-400">{t('detail.noPorts')}</p>
        ) : (
          <ul className="flex flex-wrap gap-1.5" data-testid="agent-ports">
            {ports.map((p) => (
              <li key={`${p.protocol}-${p.address}-${p.port}`} className="rounded-md bg-slate-100 px-2 py-0.5 font-mono text-xs dark:bg-slate-800">
                {`${p.protocol}/${p.port}`}
                {p.process ? ` ${p.process}` : ''}
              </li>
            ))}
          </ul>
        )}
      </div>
    </div>
  );
}
