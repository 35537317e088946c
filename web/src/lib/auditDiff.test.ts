import { describe, expect, it } from 'vitest';
import { changedFields, resourceName, showValue } from './auditDiff';

describe('changedFields', () => {
  it('lists only the fields an update changed, ignoring bookkeeping', () => {
    const before = { hostname: 'tokyo-1', status: 'provisioning', tags: ['a'], updated_at: '1', extra: { x: 1, y: 2 } };
    const after = { hostname: 'tokyo-1', status: 'active', tags: ['a', 'b'], updated_at: '2', extra: { y: 2, x: 1 } };
    expect(changedFields(before, after)).toEqual([
      { field: 'status', before: 'provisioning', after: 'active' },
      { field: 'tags', before: ['a'], after: ['a', 'b'] },
    ]);
  });

  it('lists what a creation set and what a deletion removed, without empty fields', () => {
    expect(changedFields(null, { name: 'DMIT', notes: null, tags: [] })).toEqual([{ field: 'name', before: undefined, after: 'DMIT' }]);
    expect(changedFields({ name: 'DMIT', country: '' }, undefined)).toEqual([{ field: 'name', before: 'DMIT', after: undefined }]);
  });

  it('sees a field that appears or disappears', () => {
    expect(changedFields({ a: 1 }, { a: 1, b: null })).toEqual([]);
    expect(changedFields({ a: 1 }, { a: 1, b: 2 })).toEqual([{ field: 'b', before: undefined, after: 2 }]);
  });
});

describe('showValue and resourceName', () => {
  it('show values as short text', () => {
    expect(showValue(null)).toBe('—');
    expect(showValue('x')).toBe('x');
    expect(showValue(['cn2', 'iplc'])).toBe('cn2, iplc');
    expect(showValue([{ ip: '1.2.3.4' }])).toBe('[{"ip":"1.2.3.4"}]');
    expect(showValue(4.5)).toBe('4.5');
  });

  it('name the resource from either snapshot', () => {
    expect(resourceName(null, { hostname: 'tokyo-1', name: 'ignored' })).toBe('tokyo-1');
    expect(resourceName({ name: 'DMIT' }, null)).toBe('DMIT');
    expect(resourceName(null, null)).toBeNull();
  });
});
