// The VPS list's filters live in the page URL, with the same names as the
// API's query parameters, so a view can be bookmarked and shared.
import { PURPOSES, SORT_ORDERS, VPS_SORTS, VPS_STATUSES } from '../api/enums';
import type { VpsListQuery } from '../api/types';

export const DEFAULT_PER_PAGE = 25;

function oneOf<T extends string>(values: readonly T[], v: string | null): T | undefined {
  return v !== null && (values as readonly string[]).includes(v) ? (v as T) : undefined;
}

function positiveInt(v: string | null): number | undefined {
  if (v === null || !/^\d+$/.test(v)) return undefined;
  return Number(v);
}

function bool(v: string | null): boolean | undefined {
  return v === 'true' ? true : v === 'false' ? false : undefined;
}

function text(v: string | null): string | undefined {
  const s = v?.trim();
  return s ? s : undefined;
}

/** Reads the list query from the page URL, ignoring values the API would refuse. */
export function parseVpsQuery(search: URLSearchParams): VpsListQuery {
  const status = search.getAll('status').flatMap((s) => oneOf(VPS_STATUSES, s) ?? []);
  const tag = search.getAll('tag').flatMap((s) => text(s) ?? []);
  const q: VpsListQuery = {
    status: status.length ? status : undefined,
    tag: tag.length ? tag : undefined,
    country: text(search.get('country'))?.toUpperCase(),
    provider_id: text(search.get('provider_id')),
    purpose: oneOf(PURPOSES, search.get('purpose')),
    q: text(search.get('q')),
    ip: text(search.get('ip')),
    expiring_within_days: positiveInt(search.get('expiring_within_days')),
    monitoring_enabled: bool(search.get('monitoring_enabled')),
    deleted: bool(search.get('deleted')),
    page: positiveInt(search.get('page')),
    per_page: positiveInt(search.get('per_page')),
    sort: oneOf(VPS_SORTS, search.get('sort')),
    order: oneOf(SORT_ORDERS, search.get('order')),
  };
  return Object.fromEntries(Object.entries(q).filter(([, v]) => v !== undefined)) as VpsListQuery;
}

/** Writes the list query as URL parameters, leaving out what is unset. */
export function vpsQueryToSearch(q: VpsListQuery): URLSearchParams {
  const out = new URLSearchParams();
  const order: (keyof VpsListQuery)[] = [
    'q',
    'status',
    'country',
    'provider_id',
    'purpose',
    'tag',
    'ip',
    'expiring_within_days',
    'monitoring_enabled',
    'deleted',
    'sort',
    'order',
    'page',
    'per_page',
  ];
  for (const key of order) {
    const v = q[key];
    if (v === undefined || v === null || v === '') continue;
    if (Array.isArray(v)) v.forEach((x) => out.append(key, String(x)));
    else out.set(key, String(v));
  }
  return out;
}

/** How many filters (not sorting or paging) are set. */
export function activeFilterCount(q: VpsListQuery): number {
  const keys: (keyof VpsListQuery)[] = [
    'q',
    'status',
    'country',
    'provider_id',
    'purpose',
    'tag',
    'ip',
    'expiring_within_days',
    'monitoring_enabled',
  ];
  return keys.filter((k) => q[k] !== undefined).length;
}
