import { describe, expect, it } from 'vitest';
import { activeFilterCount, parseVpsQuery, vpsQueryToSearch } from './vpsQuery';

describe('VPS list query in the URL', () => {
  it('round-trips every filter of the API', () => {
    const search = new URLSearchParams(
      'q=tokyo&status=active&status=suspended&country=jp&provider_id=0193&purpose=vpn-exit&tag=iplc&tag=cn2' +
        '&ip=103.1.0.0%2F16&expiring_within_days=7&monitoring_enabled=false&sort=expire_date&order=desc&page=2&per_page=50',
    );
    const q = parseVpsQuery(search);
    expect(q).toEqual({
      q: 'tokyo',
      status: ['active', 'suspended'],
      country: 'JP',
      provider_id: '0193',
      purpose: 'vpn-exit',
      tag: ['iplc', 'cn2'],
      ip: '103.1.0.0/16',
      expiring_within_days: 7,
      monitoring_enabled: false,
      sort: 'expire_date',
      order: 'desc',
      page: 2,
      per_page: 50,
    });
    expect(parseVpsQuery(vpsQueryToSearch(q))).toEqual(q);
    expect(activeFilterCount(q)).toBe(9);
  });

  it('drops values the API would refuse', () => {
    const q = parseVpsQuery(new URLSearchParams('status=gone&purpose=x&page=-1&sort=price&q=%20%20'));
    expect(q).toEqual({});
    expect(vpsQueryToSearch(q).toString()).toBe('');
  });
});
