import { useState } from 'react';
import { Link } from 'react-router';
import { ChevronDown, ChevronRight } from 'lucide-react';
import type { AuditEntry } from '../api/types';
import { useI18n, type MessageKey } from '../i18n';
import { changedFields, resourceName, showValue } from '../lib/auditDiff';
import { formatDateTime } from '../lib/format';

export const AUDIT_ACTIONS = ['create', 'update', 'retire', 'delete', 'restore', 'purge', 'import', 'login'] as const;
export const AUDIT_RESOURCES = ['vps', 'provider', 'user', 'api_key', 'agent'] as const;
type KnownAction = (typeof AUDIT_ACTIONS)[number];
type KnownResource = (typeof AUDIT_RESOURCES)[number];

const ACTION_COLOURS: Record<string, string> = {
  create: 'bg-emerald-50 text-emerald-700 dark:bg-emerald-500/10 dark:text-emerald-300',
  update: 'bg-sky-50 text-sky-700 dark:bg-sky-500/10 dark:text-sky-300',
  retire: 'bg-amber-50 text-amber-700 dark:bg-amber-500/10 dark:text-amber-300',
  delete: 'bg-rose-50 text-rose-700 dark:bg-rose-500/10 dark:text-rose-300',
  purge: 'bg-rose-100 text-rose-800 dark:bg-rose-500/20 dark:text-rose-200',
};

/** Labels for what the server records, falling back to its own word for
 *  actions and resource kinds this UI does not know yet. */
export function useAuditLabels() {
  const { t } = useI18n();
  return {
    action: (a: string) => ((AUDIT_ACTIONS as readonly string[]).includes(a) ? t(`audit.action.${a as KnownAction}` as MessageKey) : a),
    resource: (r: string) =>
      (AUDIT_RESOURCES as readonly string[]).includes(r) ? t(`audit.resource.${r as KnownResource}` as MessageKey) : r,
  };
}

function resourceLink(entry: AuditEntry): string | null {
  if (!entry.resource_id) return null;
  if (entry.resource_type === 'vps' && entry.action !== 'purge') return `/vps/${entry.resource_id}`;
  if (entry.resource_type === 'provider' && entry.action !== 'delete') return '/providers';
  return null;
}

function Diff({ entry }: { entry: AuditEntry }) {
  const { t } = useI18n();
  const changes = changedFields(entry.before, entry.after);
  if (changes.length === 0) return <p className="text-sm text-slate-500">{t('audit.noFieldChanges')}</p>;
  return (
    <div className="overflow-x-auto">
      <table className="min-w-full text-xs" data-testid="audit-diff">
        <thead className="text-left uppercase tracking-wide text-slate-500">
          <tr>
            <th scope="col" className="py-1.5 pr-4 font-medium">{t('audit.field')}</th>
            <th scope="col" className="py-1.5 pr-4 font-medium">{t('audit.before')}</th>
            <th scope="col" className="py-1.5 font-medium">{t('audit.after')}</th>
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-100 font-mono dark:divide-slate-800">
          {changes.map((c) => (
            <tr key={c.field}>
              <td className="py-1.5 pr-4 font-sans font-medium text-slate-700 dark:text-slate-300">{c.field}</td>
              <td className="max-w-xs break-all py-1.5 pr-4 text-rose-700 dark:text-rose-300">
                {c.before === undefined ? '' : <del className="no-underline">{showValue(c.before)}</del>}
              </td>
              <td className="max-w-xs break-all py-1.5 text-emerald-700 dark:text-emerald-300">
                {c.after === undefined ? '' : <ins className="no-underline">{showValue(c.after)}</ins>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Entry({ entry, showResource }: { entry: AuditEntry; showResource: boolean }) {
  const { t, locale } = useI18n();
  const labels = useAuditLabels();
  const [open, setOpen] = useState(false);
  const name = resourceName(entry.before, entry.after);
  const link = resourceLink(entry);
  const panel = `audit-${entry.id}`;
  return (
    <li data-testid="audit-entry">
      <div className="flex flex-wrap items-center gap-x-3 gap-y-1 px-4 py-3 text-sm">
        <button
          type="button"
          className="btn-ghost -ml-2 px-1.5 py-1"
          aria-expanded={open}
          aria-controls={panel}
          aria-label={open ? t('audit.hideChanges') : t('audit.showChanges')}
          onClick={() => setOpen(!open)}
        >
          {open ? <ChevronDown className="size-4" aria-hidden="true" /> : <ChevronRight className="size-4" aria-hidden="true" />}
        </button>
        <span className={`rounded-md px-2 py-0.5 text-xs font-medium ${ACTION_COLOURS[entry.action] ?? 'bg-slate-100 text-slate-700 dark:bg-slate-800 dark:text-slate-300'}`}>
          {labels.action(entry.action)}
        </span>
        {showResource && (
          <span className="min-w-0">
            <span className="text-slate-500 dark:text-slate-400">{labels.resource(entry.resource_type)} </span>
            {link ? (
              <Link to={link} className="font-medium text-indigo-700 hover:underline dark:text-indigo-300">
                {name ?? entry.resource_id}
              </Link>
            ) : (
              <span className="font-medium">{name ?? entry.resource_id ?? ''}</span>
            )}
          </span>
        )}
        <span className="text-slate-500 dark:text-slate-400">
          {t('audit.by', { actor: entry.actor.name, kind: t(`audit.actor.${entry.actor.kind}`) })}
        </span>
        <time className="ml-auto text-xs tabular-nums text-slate-500 dark:text-slate-400" dateTime={entry.at}>
          {formatDateTime(entry.at, locale)}
        </time>
      </div>
      {open && (
        <div id={panel} className="border-t border-slate-100 bg-slate-50/60 px-4 py-3 dark:border-slate-800 dark:bg-slate-950/40">
          <Diff entry={entry} />
          {(entry.ip || entry.request_id) && (
            <p className="mt-2 text-xs text-slate-500">
              {entry.ip && t('audit.fromIp', { ip: entry.ip })} {entry.request_id && t('audit.requestId', { id: entry.request_id })}
            </p>
          )}
        </div>
      )}
    </li>
  );
}

/** Recorded changes, newest first, each opening onto what it changed. */
export function AuditTrail({ entries, showResource = true }: { entries: AuditEntry[]; showResource?: boolean }) {
  return (
    <ul className="divide-y divide-slate-100 dark:divide-slate-800">
      {entries.map((e) => (
        <Entry key={e.id} entry={e} showResource={showResource} />
      ))}
    </ul>
  );
}
