// Between the VPS form's fields (strings, as inputs hold them) and the API's
// bodies. Empty inputs become `null`, which the API reads as "unset" (or
// "back to the default" for defaulted fields).
import type { BillingCycle, IpLabel, Purpose, Vps, VpsCreate, VpsStatus } from '../api/types';

export interface VpsFormValues {
  hostname: string;
  alias: string;
  provider_id: string;
  status: VpsStatus;
  purpose: Purpose;
  country: string;
  city: string;
  dc_name: string;
  ip_addresses: { ip: string; label: IpLabel | '' }[];
  ssh_port: string;
  ssh_user: string;
  vpn_protocol: string;
  tags: string[];
  price: string;
  currency: string;
  billing_cycle: BillingCycle;
  auto_renew: boolean;
  purchase_date: string;
  expire_date: string;
  cpu_cores: string;
  ram_mb: string;
  disk_gb: string;
  bandwidth_tb: string;
  monitoring_enabled: boolean;
  node_exporter_port: string;
  notes: string;
}

export const emptyVpsForm: VpsFormValues = {
  hostname: '',
  alias: '',
  provider_id: '',
  status: 'provisioning',
  purpose: 'vpn-exit',
  country: '',
  city: '',
  dc_name: '',
  ip_addresses: [{ ip: '', label: '' }],
  ssh_port: '',
  ssh_user: '',
  vpn_protocol: '',
  tags: [],
  price: '',
  currency: 'USD',
  billing_cycle: 'monthly',
  auto_renew: false,
  purchase_date: '',
  expire_date: '',
  cpu_cores: '',
  ram_mb: '',
  disk_gb: '',
  bandwidth_tb: '',
  monitoring_enabled: true,
  node_exporter_port: '',
  notes: '',
};

const str = (v: string | null | undefined) => v ?? '';
const num = (v: number | null | undefined) => (v === null || v === undefined ? '' : String(v));

export function vpsToForm(v: Vps): VpsFormValues {
  return {
    hostname: v.hostname,
    alias: str(v.alias),
    provider_id: v.provider_id,
    status: v.status,
    purpose: v.purpose,
    country: v.country,
    city: str(v.city),
    dc_name: str(v.dc_name),
    ip_addresses: v.ip_addresses.map((ip) => ({ ip: ip.ip, label: ip.label ?? '' })),
    ssh_port: num(v.ssh_port),
    ssh_user: str(v.ssh_user),
    vpn_protocol: str(v.vpn_protocol),
    tags: [...v.tags],
    price: str(v.price),
    currency: v.currency,
    billing_cycle: v.billing_cycle,
    auto_renew: v.auto_renew,
    purchase_date: str(v.purchase_date),
    expire_date: str(v.expire_date),
    cpu_cores: num(v.cpu_cores),
    ram_mb: num(v.ram_mb),
    disk_gb: num(v.disk_gb),
    bandwidth_tb: str(v.bandwidth_tb),
    monitoring_enabled: v.monitoring_enabled,
    node_exporter_port: num(v.node_exporter_port),
    notes: str(v.notes),
  };
}

const text = (v: string) => (v.trim() === '' ? null : v.trim());
/** A number field: empty is null; anything else is sent as typed, so the server judges it. */
const int = (v: string): number | null => {
  const s = v.trim();
  if (s === '') return null;
  const n = Number(s);
  return Number.isInteger(n) ? n : (s as unknown as number);
};

/** The body of a create or a full change (PATCH with every field). */
export function formToBody(f: VpsFormValues): VpsCreate {
  return {
    hostname: f.hostname.trim(),
    alias: text(f.alias),
    provider_id: f.provider_id || null,
    status: f.status,
    purpose: f.purpose,
    country: text(f.country),
    city: text(f.city),
    dc_name: text(f.dc_name),
    ip_addresses: f.ip_addresses
      .filter((ip) => ip.ip.trim() !== '')
      .map((ip) => ({ ip: ip.ip.trim(), label: ip.label === '' ? null : ip.label })),
    ssh_port: int(f.ssh_port),
    ssh_user: text(f.ssh_user),
    vpn_protocol: text(f.vpn_protocol),
    tags: f.tags,
    price: text(f.price),
    currency: text(f.currency),
    billing_cycle: f.billing_cycle,
    auto_renew: f.auto_renew,
    purchase_date: text(f.purchase_date),
    expire_date: text(f.expire_date),
    cpu_cores: int(f.cpu_cores),
    ram_mb: int(f.ram_mb),
    disk_gb: int(f.disk_gb),
    bandwidth_tb: text(f.bandwidth_tb),
    monitoring_enabled: f.monitoring_enabled,
    node_exporter_port: int(f.node_exporter_port),
    notes: text(f.notes),
  };
}

/**
 * The index in the form of the server's `ip_addresses[N]`: the form drops
 * empty rows before sending, so the server counts only the filled ones.
 */
export function serverIpIndexToForm(f: VpsFormValues, serverIndex: number): number {
  let seen = -1;
  for (let i = 0; i < f.ip_addresses.length; i++) {
    if (f.ip_addresses[i]!.ip.trim() !== '') seen++;
    if (seen === serverIndex) return i;
  }
  return serverIndex;
}
