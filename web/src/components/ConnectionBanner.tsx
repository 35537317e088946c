import { useEffect, useState } from 'react';
import { WifiOff, DatabaseZap } from 'lucide-react';
import { connection } from '../api/client';
import { useHealth } from '../api/hooks';
import { useI18n } from '../i18n';

/**
 * Whether the server can be reached: /healthz is polled, and any request
 * that gets no answer at all counts too. A later answer clears it.
 */
export function useConnectionState(intervalMs?: number) {
  const health = useHealth(intervalMs);
  const [reachable, setReachable] = useState(true);
  useEffect(() => connection.onReachability(setReachable), []);
  const offline = !reachable || (health.isError && health.failureCount > 0);
  const databaseDown = !offline && health.data !== undefined && !health.data.database_reachable;
  return { offline, databaseDown, health };
}

export function ConnectionBanner() {
  const { t } = useI18n();
  const { offline, databaseDown } = useConnectionState();
  if (!offline && !databaseDown) return null;
  return (
    <div
      role="status"
      aria-live="assertive"
      data-testid="connection-banner"
      className="flex items-center gap-2 bg-rose-600 px-4 py-2 text-sm font-medium text-white"
    >
      {offline ? <WifiOff className="size-4 shrink-0" aria-hidden="true" /> : <DatabaseZap className="size-4 shrink-0" aria-hidden="true" />}
      <span>{offline ? t('connection.offline') : t('connection.database')}</span>
    </div>
  );
}
