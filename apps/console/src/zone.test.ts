import { describe, expect, it } from 'vitest';
import { parseZoneText } from './zone.ts';

describe('parseZoneText', () => {
  it('reads $ORIGIN, $TTL, a parenthesised SOA, blank owners and comments (RFC 1035 §5.1)', () => {
    const text = [
      '$ORIGIN example.test.',
      '$TTL 3600',
      '@\tIN\tSOA\tdns.example.test. hostmaster.example.test. (',
      '\t\t\t7 ; serial',
      '\t\t\t3600 ; refresh',
      '\t\t\t900 ) ; retry',
      '@\tIN\tNS\tdns.example.test.',
      'www\t300\tIN\tA\t192.0.2.1 ; web',
      '\tIN\tAAAA\t2001:db8::1',
      '',
    ].join('\n');
    expect(parseZoneText(text)).toEqual([
      { zone: 'example.test', name: 'example.test.', ttl: 3600, type: 'SOA', data: 'dns.example.test. hostmaster.example.test. 7 3600 900' },
      { zone: 'example.test', name: 'example.test.', ttl: 3600, type: 'NS', data: 'dns.example.test.' },
      { zone: 'example.test', name: 'www.example.test.', ttl: 300, type: 'A', data: '192.0.2.1' },
      { zone: 'example.test', name: 'www.example.test.', ttl: 3600, type: 'AAAA', data: '2001:db8::1' },
    ]);
  });
});
