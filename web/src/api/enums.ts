// The values of the API's enumerations, for selects and filters. The
// compiler checks each list against the generated types both ways: a value
// the server does not know fails `satisfies`, and a value the server added
// but missing here fails `Exhaustive`.
import type { AgentStatus, BillingCycle, IpLabel, Purpose, Role, SortOrder, Source, VpsSort, VpsStatus } from './types';

type Exhaustive<All, Listed> = [Exclude<All, Listed>] extends [never] ? true : never;
const exhaustive = <All, Listed>(_proof: Exhaustive<All, Listed>) => undefined;

export const VPS_STATUSES = ['provisioning', 'active', 'retiring', 'suspended', 'retired'] as const satisfies readonly VpsStatus[];
export const PURPOSES = ['vpn-exit', 'vpn-relay', 'vpn-entry', 'monitor', 'management'] as const satisfies readonly Purpose[];
export const IP_LABELS = [
  'china-telecom',
  'china-unicom',
  'china-mobile',
  'china-cernet',
  'overseas',
  'internal',
  'anycast',
] as const satisfies readonly IpLabel[];
export const BILLING_CYCLES = [
  'monthly',
  'quarterly',
  'semiannual',
  'annual',
  'biennial',
  'triennial',
  'one-time',
] as const satisfies readonly BillingCycle[];
export const SOURCES = ['manual', 'import', 'agent', 'cloud'] as const satisfies readonly Source[];
export const AGENT_STATUSES = ['pending', 'online', 'offline'] as const satisfies readonly AgentStatus[];
export const VPS_SORTS = ['created_at', 'hostname', 'country', 'status', 'expire_date', 'monthly_cost'] as const satisfies readonly VpsSort[];
export const SORT_ORDERS = ['asc', 'desc'] as const satisfies readonly SortOrder[];
export const ROLES = ['readonly', 'operator', 'admin'] as const satisfies readonly Role[];

exhaustive<VpsStatus, (typeof VPS_STATUSES)[number]>(true);
exhaustive<Purpose, (typeof PURPOSES)[number]>(true);
exhaustive<IpLabel, (typeof IP_LABELS)[number]>(true);
exhaustive<BillingCycle, (typeof BILLING_CYCLES)[number]>(true);
exhaustive<Source, (typeof SOURCES)[number]>(true);
exhaustive<AgentStatus, (typeof AGENT_STATUSES)[number]>(true);
exhaustive<VpsSort, (typeof VPS_SORTS)[number]>(true);
exhaustive<SortOrder, (typeof SORT_ORDERS)[number]>(true);
exhaustive<Role, (typeof ROLES)[number]>(true);
