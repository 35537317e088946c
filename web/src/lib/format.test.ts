import { describe, expect, it } from 'vitest';
import { countryName, daysUntil, expiryLevel, flag, formatBytes, formatMoney, formatUptime } from './format';

const today = new Date('2026-11-10T15:00:00Z');

describe('format', () => {
  it('counts whole days to a date in UTC', () => {
    expect(daysUntil('2026-11-10', today)).toBe(0);
    expect(daysUntil('2026-11-17', today)).toBe(7);
    expect(daysUntil('2026-11-01', today)).toBe(-9);
  });

  it('grades expiry dates', () => {
    expect(expiryLevel(null, today)).toBe('none');
    expect(expiryLevel('2026-11-09', today)).toBe('overdue');
    expect(expiryLevel('2026-11-17', today)).toBe('critical');
    expect(expiryLevel('2026-12-10', today)).toBe('warning');
    expect(expiryLevel('2027-01-01', today)).toBe('ok');
  });

  it('formats money in its own currency', () => {
    expect(formatMoney('4.99', 'USD', 'en-US')).toBe('$4.99');
    expect(formatMoney('30', 'CNY', 'zh-CN')).toBe('¥30.00');
    expect(formatMoney(null, 'USD', 'en-US')).toBe('—');
    expect(formatMoney('1.5', 'ZZZ1', 'en-US')).toBe('1.50 ZZZ1');
  });

  it('names countries and draws flags', () => {
    expect(countryName('JP', 'en-US')).toBe('Japan');
    expect(countryName('JP', 'zh-CN')).toBe('日本');
    expect(flag('jp')).toBe('🇯🇵');
    expect(flag('x')).toBe('');
  });
});

describe('formatBytes and formatUptime', () => {
  it('use binary units and the largest whole unit', () => {
    expect(formatBytes(512, 'en-US')).toBe('512 B');
    expect(formatBytes(2_000_000_000, 'en-US')).toBe('1.9 GiB');
    expect(formatBytes(1536, 'en-US')).toBe('1.5 KiB');
    expect(formatUptime(59)).toBe('0m');
    expect(formatUptime(3 * 3600 + 12 * 60)).toBe('3h 12m');
    expect(formatUptime(2 * 86_400 + 5 * 3600)).toBe('2d 5h');
  });
});
