import type { IpEntry } from '../api/types';
import { IpLabelBadge } from './badges';
import { useI18n } from '../i18n';

export function IpList({ ips, max = 2 }: { ips: IpEntry[]; max?: number }) {
  const { t } = useI18n();
  if (ips.length === 0) return <span className="text-slate-400">{t('common.none')}</span>;
  const shown = ips.slice(0, max);
  return (
    <ul className="space-y-0.5">
      {shown.map((ip) => (
        <li key={ip.ip} className="flex items-center gap-1.5">
          <span className="font-mono text-xs">{ip.ip}</span>
          <IpLabelBadge label={ip.label} />
        </li>
      ))}
      {ips.length > max && <li className="text-xs text-slate-500">{t('vps.moreIps', { n: ips.length - max })}</li>}
    </ul>
  );
}
