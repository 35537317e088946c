import { useState, type ReactNode } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { Archive, ArchiveRestore, ArrowLeft, Pencil, Radio, Trash2 } from 'lucide-react';
import { useAuditLog, useVps, useVpsAction, useVpsIpHistory, vpsActions } from '../api/hooks';
import { AuditTrail } from '../components/AuditTrail';
import type { Heartbeat, Vps } from '../api/types';
import { AgentMetrics } from '../components/AgentMetrics';
import { AgentDot, ExpiryBadge, IpLabelBadge, PurposeBadge, StatusBadge } from '../components/badges';
import { ConfirmDialog } from '../components/Dialog';
import { ErrorState, Loading } from '../components/states';
import { useI18n } from '../i18n';
import { countryName, flag, formatDate, formatDateTime, formatMoney } from '../lib/format';

function Panel({ title, children, testId, className = '' }: { title: string; children: ReactNode; testId?: string; className?: string }) {
  return (
    <section className={`card p-5 ${className}`} data-testid={testId}>
      <h2 className="mb-3 text-sm font-semibold text-slate-700 dark:text-slate-200">{title}</h2>
      {children}
    </section>
  );
}

function Facts({ rows }: { rows: [string, ReactNode][] }) {
  return (
    <dl className="grid grid-cols-[minmax(7rem,auto)_1fr] gap-x-4 gap-y-2 text-sm">
      {rows.map(([k, v]) => (
        <div key={k} className="contents">
          <dt className="text-slate-500 dark:text-slate-400">{k}</dt>
          <dd className="min-w-0 break-words">{v ?? '—'}</dd>
        </div>
      ))}
    </dl>
  );
}

function AgentPanel({ vps }: { vps: Vps }) {
  const { t, locale } = useI18n();
  const agent = vps.agent;
  return (
    <Panel title={t('detail.agent')} testId="agent-panel">
      {!agent ? (
        <div className="flex items-start gap-3 text-sm text-slate-500 dark:text-slate-400">
          <Radio className="mt-0.5 size-4 shrink-0" aria-hidden="true" />
          <p>{t('detail.noAgent')}</p>
        </div>
      ) : (
        <>
          <Facts
            rows={[
              [
                t('detail.agentStatus'),
                <span key="s" className="inline-flex items-center gap-2">
                  <AgentDot status={agent.status} />
                  {t(`agent.${agent.status}`)}
                </span>,
              ],
              [t('detail.lastHeartbeat'), formatDateTime(agent.last_heartbeat_at, locale)],
            ]}
          />
          {agent.metrics && Object.keys(agent.metrics).length > 0 && <AgentMetrics metrics={agent.metrics as unknown as Heartbeat} />}
        </>
      )}
    </Panel>
  );
}

function IpHistory({ id }: { id: string }) {
  const { t, locale } = useI18n();
  const history = useVpsIpHistory(id);
  return (
    <Panel title={t('detail.ipHistory')} testId="ip-history" className="lg:col-span-2">
      {history.isPending ? (
        <Loading rows={2} />
      ) : history.isError ? (
        <ErrorState error={history.error} onRetry={() => void history.refetch()} />
      ) : history.data.length === 0 ? (
        <p className="text-sm text-slate-500">{t('detail.noIpHistory')}</p>
      ) : (
        <div className="overflow-x-auto">
          <table className="min-w-full text-sm">
            <thead className="text-left text-xs uppercase tracking-wide text-slate-500">
              <tr>
                <th scope="col" className="py-2 pr-4 font-medium">{t('detail.address')}</th>
                <th scope="col" className="py-2 pr-4 font-medium">{t('detail.assigned')}</th>
                <th scope="col" className="py-2 font-medium">{t('detail.released')}</th>
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100 dark:divide-slate-800">
              {history.data.map((h) => (
                <tr key={`${h.ip}-${h.assigned_at}`}>
                  <td className="py-2 pr-4 font-mono text-xs">
                    <Link to={`/ip-history?ip=${encodeURIComponent(h.ip)}`} className="hover:underline">
                      {h.ip}
                    </Link>
                  </td>
                  <td className="py-2 pr-4">{formatDateTime(h.assigned_at, locale)}</td>
                  <td className="py-2">
                    {h.released_at ? (
                      formatDateTime(h.released_at, locale)
                    ) : (
                      <span className="font-medium text-emerald-600 dark:text-emerald-400">{t('detail.current')}</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Panel>
  );
}

const CHANGES_SHOWN = 20;

/** The latest recorded changes of this VPS, from the audit log. */
function Changes({ id }: { id: string }) {
  const { t } = useI18n();
  const log = useAuditLog({ resource_type: 'vps', resource_id: id, per_page: CHANGES_SHOWN });
  return (
    <Panel title={t('detail.changes')} testId="vps-changes" className="lg:col-span-2">
      {log.isPending ? (
        <Loading rows={2} />
      ) : log.isError ? (
        <ErrorState error={log.error} onRetry={() => void log.refetch()} />
      ) : log.data.data.length === 0 ? (
        <p className="text-sm text-slate-500">{t('detail.noChanges')}</p>
      ) : (
        <>
          <div className="-mx-5">
            <AuditTrail entries={log.data.data} showResource={false} />
          </div>
          {log.data.total > CHANGES_SHOWN && (
            <Link to={`/audit?resource_type=vps&resource_id=${id}`} className="mt-2 inline-block text-sm text-indigo-700 hover:underline dark:text-indigo-300">
              {t('detail.allChanges', { n: log.data.total })}
            </Link>
          )}
        </>
      )}
    </Panel>
  );
}

type Pending = 'retire' | 'trash' | 'restore' | null;

export default function VpsDetail() {
  const { id = '' } = useParams();
  const { t, locale } = useI18n();
  const navigate = useNavigate();
  const query = useVps(id);
  const [pending, setPending] = useState<Pending>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const retire = useVpsAction(vpsActions.retire);
  const trash = useVpsAction(vpsActions.trash);
  const restore = useVpsAction(vpsActions.restore);

  if (query.isPending) return <Loading rows={8} />;
  if (query.isError) return <ErrorState error={query.error} onRetry={() => void query.refetch()} />;
  const v = query.data.data;
  const trashed = v.deleted_at !== null && v.deleted_at !== undefined;
  const yesNo = (b: boolean) => (b ? t('common.yes') : t('common.no'));

  const run = async () => {
    setActionError(null);
    try {
      if (pending === 'retire') await retire.mutateAsync(v.id);
      if (pending === 'restore') await restore.mutateAsync(v.id);
      if (pending === 'trash') {
        await trash.mutateAsync(v.id);
        navigate('/vps');
      }
    } catch (e) {
      setActionError(e instanceof Error ? e.message : String(e));
    }
    setPending(null);
  };

  return (
    <>
      <Link to="/vps" className="mb-3 inline-flex items-center gap-1 text-sm text-slate-500 hover:text-slate-900 dark:hover:text-white">
        <ArrowLeft className="size-4" aria-hidden="true" />
        {t('detail.back')}
      </Link>
      <div className="mb-6 flex flex-wrap items-start justify-between gap-3">
        <div>
          <div className="flex flex-wrap items-center gap-3">
            <AgentDot status={v.agent?.status} />
            <h1 className="text-2xl font-semibold tracking-tight" data-testid="vps-hostname">
              {v.hostname}
            </h1>
            <StatusBadge status={v.status} />
            <PurposeBadge purpose={v.purpose} />
            {trashed && <span className="rounded-full bg-rose-600 px-2 py-0.5 text-xs font-medium text-white">{t('detail.inTrash')}</span>}
          </div>
          {v.alias && <p className="mt-1 text-sm text-slate-500">{v.alias}</p>}
        </div>
        <div className="flex flex-wrap gap-2">
          {trashed ? (
            <button type="button" className="btn-primary" onClick={() => setPending('restore')}>
              <ArchiveRestore className="size-4" aria-hidden="true" />
              {t('trash.restore')}
            </button>
          ) : (
            <>
              <Link to={`/vps/${v.id}/edit`} className="btn-primary">
                <Pencil className="size-4" aria-hidden="true" />
                {t('common.edit')}
              </Link>
              {v.status !== 'retired' && (
                <button type="button" className="btn-secondary" onClick={() => setPending('retire')} data-testid="retire">
                  <Archive className="size-4" aria-hidden="true" />
                  {t('vps.retire')}
                </button>
              )}
              <button type="button" className="btn-secondary text-rose-600" onClick={() => setPending('trash')}>
                <Trash2 className="size-4" aria-hidden="true" />
                {t('detail.moveToTrash')}
              </button>
            </>
          )}
        </div>
      </div>
      {actionError && (
        <div role="alert" className="mb-4 rounded-xl border border-rose-200 bg-rose-50 px-4 py-3 text-sm text-rose-800 dark:border-rose-500/30 dark:bg-rose-500/10 dark:text-rose-200">
          {actionError}
        </div>
      )}

      <div className="grid grid-cols-1 gap-4 lg:grid-cols-2">
        <Panel title={t('detail.overview')}>
          <Facts
            rows={[
              [t('vps.provider'), v.provider_name],
              [t('vps.country'), `${flag(v.country)} ${countryName(v.country, locale)}`],
              [t('vps.city'), v.city],
              [t('vps.dc'), v.dc_name],
              [t('vps.source'), t(`source.${v.source}`)],
              [t('detail.created'), formatDateTime(v.created_at, locale)],
              [t('detail.updated'), formatDateTime(v.updated_at, locale)],
              ...(v.retired_at ? ([[t('detail.retiredAt'), formatDateTime(v.retired_at, locale)]] as [string, ReactNode][]) : []),
            ]}
          />
        </Panel>
        <Panel title={t('vps.ips')} testId="detail-ips">
          {v.ip_addresses.length === 0 ? (
            <p className="text-sm text-slate-500">{t('vpsForm.noIps')}</p>
          ) : (
            <ul className="space-y-2">
              {v.ip_addresses.map((ip) => (
                <li key={ip.ip} className="flex items-center gap-2">
                  <span className="font-mono text-sm">{ip.ip}</span>
                  <IpLabelBadge label={ip.label} />
                </li>
              ))}
            </ul>
          )}
          {v.tags.length > 0 && (
            <div className="mt-4 flex flex-wrap gap-1.5">
              {v.tags.map((tag) => (
                <Link key={tag} to={`/vps?tag=${encodeURIComponent(tag)}`} className="rounded bg-slate-100 px-2 py-0.5 text-xs text-slate-600 hover:bg-indigo-100 dark:bg-slate-800 dark:text-slate-300">
                  {tag}
                </Link>
              ))}
            </div>
          )}
        </Panel>
        <Panel title={t('vpsForm.cost')}>
          <Facts
            rows={[
              [t('vps.price'), formatMoney(v.price, v.currency, locale)],
              [t('vps.billingCycle'), t(`billing.${v.billing_cycle}`)],
              [t('vps.monthlyCost'), formatMoney(v.monthly_cost, v.currency, locale)],
              [t('vps.autoRenew'), yesNo(v.auto_renew)],
              [t('vps.purchaseDate'), formatDate(v.purchase_date, locale)],
              [
                t('vps.expireDate'),
                <span key="e" className="inline-flex flex-wrap items-center gap-2">
                  {formatDate(v.expire_date, locale)}
                  {v.expire_date && <ExpiryBadge date={v.expire_date} />}
                </span>,
              ],
            ]}
          />
        </Panel>
        <AgentPanel vps={v} />
        <Panel title={t('vpsForm.specs')}>
          <Facts
            rows={[
              [t('vps.cpu'), v.cpu_cores],
              [t('vps.ram'), v.ram_mb],
              [t('vps.disk'), v.disk_gb],
              [t('vps.bandwidth'), v.bandwidth_tb],
            ]}
          />
        </Panel>
        <Panel title={t('vpsForm.access')}>
          <Facts
            rows={[
              [t('vps.sshPort'), v.ssh_port],
              [t('vps.sshUser'), v.ssh_user],
              [t('vps.vpnProtocol'), v.vpn_protocol],
              [t('vps.monitoring'), yesNo(v.monitoring_enabled)],
              [t('vps.nodeExporterPort'), v.node_exporter_port],
            ]}
          />
        </Panel>
        {v.notes && (
          <Panel title={t('vps.notes')} className="lg:col-span-2">
            <p className="whitespace-pre-wrap text-sm">{v.notes}</p>
          </Panel>
        )}
        {Object.keys(v.extra).length > 0 && (
          <Panel title={t('detail.extra')} className="lg:col-span-2">
            <pre className="overflow-auto rounded-lg bg-slate-50 p-3 text-xs dark:bg-slate-950">{JSON.stringify(v.extra, null, 2)}</pre>
          </Panel>
        )}
        <IpHistory id={v.id} />
        <Changes id={v.id} />
      </div>

      <ConfirmDialog
        open={pending !== null}
        title={pending === 'retire' ? t('detail.retireTitle', { hostname: v.hostname }) : pending === 'trash' ? t('detail.trashTitle', { hostname: v.hostname }) : t('detail.restoreTitle', { hostname: v.hostname })}
        body={pending === 'retire' ? t('vps.retireBody') : pending === 'trash' ? t('detail.trashBody') : t('detail.restoreBody')}
        confirm={pending === 'retire' ? t('vps.retire') : pending === 'trash' ? t('detail.moveToTrash') : t('trash.restore')}
        danger={pending !== 'restore'}
        busy={retire.isPending || trash.isPending || restore.isPending}
        onClose={() => setPending(null)}
        onConfirm={() => void run()}
      />
    </>
  );
}
