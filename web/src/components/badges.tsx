import type { AgentStatus, IpLabel, Purpose, VpsStatus } from '../api/types';
import { useI18n } from '../i18n';
import { daysUntil, expiryLevel, type ExpiryLevel } from '../lib/format';

const pill = 'inline-flex items-center gap-1 whitespace-nowrap rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset';

const STATUS_COLOURS: Record<VpsStatus, string> = {
  provisioning: 'bg-sky-50 text-sky-700 ring-sky-600/20 dark:bg-sky-500/10 dark:text-sky-300 dark:ring-sky-400/30',
  active: 'bg-emerald-50 text-emerald-700 ring-emerald-600/20 dark:bg-emerald-500/10 dark:text-emerald-300 dark:ring-emerald-400/30',
  retiring: 'bg-amber-50 text-amber-800 ring-amber-600/20 dark:bg-amber-500/10 dark:text-amber-300 dark:ring-amber-400/30',
  suspended: 'bg-rose-50 text-rose-700 ring-rose-600/20 dark:bg-rose-500/10 dark:text-rose-300 dark:ring-rose-400/30',
  retired: 'bg-slate-100 text-slate-600 ring-slate-500/20 dark:bg-slate-500/10 dark:text-slate-400 dark:ring-slate-400/30',
};

/** Colours shared by badges and charts. */
export const STATUS_CHART_COLOURS: Record<VpsStatus, string> = {
  provisioning: '#0ea5e9',
  active: '#10b981',
  retiring: '#f59e0b',
  suspended: '#f43f5e',
  retired: '#94a3b8',
};

export function StatusBadge({ status }: { status: VpsStatus }) {
  const { t } = useI18n();
  return <span className={`${pill} ${STATUS_COLOURS[status]}`}>{t(`status.${status}`)}</span>;
}

export function PurposeBadge({ purpose }: { purpose: Purpose }) {
  const { t } = useI18n();
  return (
    <span className={`${pill} bg-indigo-50 text-indigo-700 ring-indigo-600/20 dark:bg-indigo-500/10 dark:text-indigo-300 dark:ring-indigo-400/30`}>
      {t(`purpose.${purpose}`)}
    </span>
  );
}

export const IP_LABEL_COLOURS: Record<IpLabel, string> = {
  'china-telecom': 'bg-blue-50 text-blue-700 ring-blue-600/20 dark:bg-blue-500/10 dark:text-blue-300 dark:ring-blue-400/30',
  'china-unicom': 'bg-red-50 text-red-700 ring-red-600/20 dark:bg-red-500/10 dark:text-red-300 dark:ring-red-400/30',
  'china-mobile': 'bg-teal-50 text-teal-700 ring-teal-600/20 dark:bg-teal-500/10 dark:text-teal-300 dark:ring-teal-400/30',
  'china-cernet': 'bg-violet-50 text-violet-700 ring-violet-600/20 dark:bg-violet-500/10 dark:text-violet-300 dark:ring-violet-400/30',
  overseas: 'bg-slate-100 text-slate-700 ring-slate-500/20 dark:bg-slate-500/10 dark:text-slate-300 dark:ring-slate-400/30',
  internal: 'bg-yellow-50 text-yellow-800 ring-yellow-600/20 dark:bg-yellow-500/10 dark:text-yellow-300 dark:ring-yellow-400/30',
  anycast: 'bg-fuchsia-50 text-fuchsia-700 ring-fuchsia-600/20 dark:bg-fuchsia-500/10 dark:text-fuchsia-300 dark:ring-fuchsia-400/30',
};

export function IpLabelBadge({ label }: { label: IpLabel | null | undefined }) {
  const { t } = useI18n();
  if (!label) return null;
  return <span className={`${pill} ${IP_LABEL_COLOURS[label]}`}>{t(`ipLabel.${label}`)}</span>;
}

const EXPIRY_COLOURS: Record<ExpiryLevel, string> = {
  overdue: 'bg-rose-600 text-white ring-rose-700',
  critical: 'bg-rose-50 text-rose-700 ring-rose-600/30 dark:bg-rose-500/10 dark:text-rose-300 dark:ring-rose-400/30',
  warning: 'bg-amber-50 text-amber-800 ring-amber-600/30 dark:bg-amber-500/10 dark:text-amber-300 dark:ring-amber-400/30',
  ok: 'bg-slate-50 text-slate-600 ring-slate-500/20 dark:bg-slate-800 dark:text-slate-300 dark:ring-slate-600/40',
  none: '',
};

/** Days to expiry, coloured by urgency: overdue, 7 days, 30 days. */
export function ExpiryBadge({ date, today }: { date: string | null | undefined; today?: Date }) {
  const { t } = useI18n();
  if (!date) return <span className="text-slate-400">{t('common.none')}</span>;
  const level = expiryLevel(date, today);
  const days = daysUntil(date, today);
  const text =
    days < 0 ? t('expiry.overdue', { n: -days }) : days === 0 ? t('expiry.today') : t('expiry.inDays', { n: days });
  return (
    <span className={`${pill} ${EXPIRY_COLOURS[level]}`} title={date} data-level={level}>
      {text}
    </span>
  );
}

const AGENT_DOT: Record<AgentStatus | 'none', string> = {
  online: 'bg-emerald-500 shadow-[0_0_0_3px] shadow-emerald-500/20',
  offline: 'bg-rose-500',
  pending: 'bg-amber-400',
  none: 'bg-slate-300 dark:bg-slate-600',
};

/** The agent's state as a dot, with its name for screen readers. */
export function AgentDot({ status }: { status: AgentStatus | null | undefined }) {
  const { t } = useI18n();
  const key = status ?? 'none';
  const label = t(`agent.${key}`);
  return (
    <span className="inline-flex items-center" title={label} data-agent-status={key}>
      <span className={`inline-block size-2.5 rounded-full ${AGENT_DOT[key]}`} aria-hidden="true" />
      <span className="sr-only">{label}</span>
    </span>
  );
}
