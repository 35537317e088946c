// What an audit entry changed, field by field, from its `before` and
// `after` snapshots of the resource.

export interface FieldChange {
  field: string;
  /** `undefined` when the field did not exist before (a creation). */
  before: unknown;
  /** `undefined` when the field is gone after (a deletion). */
  after: unknown;
}

/** Fields that change on every write and say nothing about the change. */
const NOISE = new Set(['updated_at', 'version']);

type Snapshot = Record<string, unknown> | null | undefined;

/** The fields whose value differs between the snapshots, in name order.
 *  A creation lists every field it set, a deletion every field it had. */
export function changedFields(before: Snapshot, after: Snapshot): FieldChange[] {
  const b = before ?? {};
  const a = after ?? {};
  const fields = [...new Set([...Object.keys(b), ...Object.keys(a)])].sort();
  return fields.flatMap((field) => {
    if (before && after && NOISE.has(field)) return [];
    const was = before ? b[field] : undefined;
    const now = after ? a[field] : undefined;
    if (same(was, now)) return [];
    if (!before && isEmpty(now)) return [];
    if (!after && isEmpty(was)) return [];
    return [{ field, before: was, after: now }];
  });
}

function isEmpty(v: unknown): boolean {
  return v === null || v === undefined || v === '' || (Array.isArray(v) && v.length === 0);
}

/** Equal as JSON, a missing field counting as `null`. */
function same(x: unknown, y: unknown): boolean {
  return stable(x ?? null) === stable(y ?? null);
}

/** JSON with object keys sorted, so key order does not count as a change. */
function stable(v: unknown): string | undefined {
  return JSON.stringify(v, (_, value: unknown) =>
    value && typeof value === 'object' && !Array.isArray(value)
      ? Object.fromEntries(Object.entries(value as Record<string, unknown>).sort(([k1], [k2]) => (k1 < k2 ? -1 : k1 > k2 ? 1 : 0)))
      : value,
  );
}

/** A value as a short line of text: strings as they are, the rest as JSON. */
export function showValue(v: unknown): string {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v.join(', ');
  return JSON.stringify(v);
}

/** A name for the resource an entry is about, from its snapshots. */
export function resourceName(before: Snapshot, after: Snapshot): string | null {
  for (const snap of [after, before]) {
    for (const key of ['hostname', 'name', 'email']) {
      const v = snap?.[key];
      if (typeof v === 'string' && v) return v;
    }
  }
  return null;
}
