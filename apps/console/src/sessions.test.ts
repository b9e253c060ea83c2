import { describe, expect, it } from 'vitest';
import { MAX_LINES, MAX_SESSIONS, MAX_TOTAL_LINES, SessionStore, loginName, maskLine } from './sessions.ts';

describe('SessionStore', () => {
  it('keeps at most MAX_SESSIONS sessions, MAX_LINES lines each and MAX_TOTAL_LINES in all', () => {
    const st = new SessionStore();
    for (let i = 0; i < MAX_SESSIONS + 5; i++) st.add({ t: i, s: `s${i}`, p: 'http', k: 'open', c: '127.0.0.1:1' });
    expect(st.list({ limit: 1e6 })).toHaveLength(MAX_SESSIONS);
    expect(st.get('s0', false)).toBeUndefined();
    for (let i = 0; i < MAX_LINES + 3; i++) st.add({ t: i, s: 's10', p: 'http', k: 'c', x: `GET /${i} HTTP/1.1` });
    const one = st.get('s10', false)!;
    expect(one.lines).toHaveLength(MAX_LINES);
    expect(one.dropped).toBe(3);
    // Fill far past the total: the oldest sessions leave, the newest stays whole.
    const per = MAX_LINES;
    const sessions = Math.ceil(MAX_TOTAL_LINES / per) + 10;
    for (let n = 0; n < sessions; n++) for (let i = 0; i < per; i++) st.add({ t: n, s: `big${n}`, p: 'smtp', k: 's', x: '250 OK' });
    const kept = st.list({ limit: 1e6 });
    expect(kept[0]!.id).toBe(`big${sessions - 1}`);
    expect(kept.reduce((n, s) => n + s.lines, 0)).toBeLessThanOrEqual(MAX_TOTAL_LINES + MAX_SESSIONS);
    expect(st.get('s10', false)).toBeUndefined();
  });

  it('masks secrets and finds who logged in', () => {
    expect(maskLine('AUTH PLAIN AGEAYg==')).toBe('AUTH PLAIN ••••••••');
    expect(maskLine('PASS hunter2')).toBe('PASS ••••••••');
    expect(maskLine('dXNlcg==')).toBe('••••••••');
    expect(loginName('USER bob', '+OK', '')).toBe('bob');
    expect(loginName(`AUTH PLAIN ${Buffer.from('\0alice\0pw').toString('base64')}`, '', '')).toBe('alice');
    expect(loginName(Buffer.from('\0carol\0pw').toString('base64'), '+ ', 'AUTH PLAIN')).toBe('carol');
    expect(loginName(Buffer.from('dave').toString('base64'), '334 VXNlcm5hbWU6', 'AUTH LOGIN')).toBe('dave');
    expect(loginName('NOOP', '+OK', 'USER x')).toBeUndefined();
  });
});
