// The verdicts of mail authentication in the console: the Authentication-Results parser
// (RFC 8601), and, in a domain that signs and checks (the world with mail authentication), a
// message composed through submission shown with dkim=pass spf=pass dmarc=pass, a forged one with
// its failures and their reasons, and the search's auth:fail / auth:pass / auth:none.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authSummary, failed, ourAuthResults, parseAuthResults, summaryFails, type AuthResults } from '../src/auth-results.ts';
import { parseQuery } from '../src/search.ts';
import { startWorld, type World } from './world.ts';

describe('parsing Authentication-Results (RFC 8601)', () => {
  it('methods, results, the comment as the reason, properties; comments nested and quoted values', () => {
    const value =
      'Server.Example.org 1; dkim=neutral (body hash did not verify) header.i=@a.test header.s=rsa header.a=rsa-sha256 header.b=AbCd; ' +
      'spf=pass (server.example.org: domain of x@a.test designates 127.0.0.1 (that is (us)) as permitted sender) smtp.mailfrom=x@a.test smtp.helo="cliente; a"; ' +
      'dmarc=fail reason="no aligned pass" header.from=a.test; arc=none';
    expect(parseAuthResults(value)).toEqual({
      authservId: 'server.example.org',
      verdicts: [
        {
          method: 'dkim',
          result: 'neutral',
          reason: 'body hash did not verify',
          props: { 'header.i': '@a.test', 'header.s': 'rsa', 'header.a': 'rsa-sha256', 'header.b': 'AbCd' },
          dns: [{ name: 'rsa._domainkey.a.test', type: 'TXT' }],
        },
        {
          method: 'spf',
          result: 'pass',
          reason: 'server.example.org: domain of x@a.test designates 127.0.0.1 (that is (us)) as permitted sender',
          props: { 'smtp.mailfrom': 'x@a.test', 'smtp.helo': 'cliente; a' },
          dns: [{ name: 'a.test', type: 'TXT' }],
        },
        { method: 'dmarc', result: 'fail', reason: 'no aligned pass', props: { 'header.from': 'a.test' }, dns: [{ name: '_dmarc.a.test', type: 'TXT' }] },
        { method: 'arc', result: 'none', props: {}, dns: [] },
      ],
    });
  });

  it('only our authserv-id counts; what fails; the one-line summary', () => {
    const headers = [
      { name: 'Authentication-Results', value: 'mx.elsewhere.test; spf=fail smtp.mailfrom=a@b.test' },
      { name: 'authentication-results', value: 'server.x.test; dkim=pass header.d=x.test; spf=softfail smtp.mailfrom=a@b.test; dmarc=none' },
    ];
    const ours = ourAuthResults(headers, 'SERVER.x.test') as AuthResults;
    expect(ours.authservId).toBe('server.x.test');
    expect(ours.fail).toBe(true);
    expect(authSummary(ours)).toBe('dkim=pass spf=softfail dmarc=none');
    expect(ourAuthResults(headers.slice(0, 1), 'server.x.test')).toBeNull();
    expect(authSummary(null)).toBe('');
    expect(['fail', 'softfail', 'permerror', 'temperror', 'neutral', 'policy', 'pass', 'none'].map((result) => failed({ method: 'dkim', result }))).toEqual([
      true,
      true,
      true,
      true,
      true,
      true,
      false,
      false,
    ]);
    // SPF's neutral is the domain saying nothing, not a failure (RFC 7208 §8.2).
    expect(failed({ method: 'spf', result: 'neutral' })).toBe(false);
    expect(summaryFails('dkim=pass spf=neutral dmarc=pass')).toBe(false);
    expect(summaryFails('dkim=pass spf=pass dmarc=fail')).toBe(true);
  });

  it('the record each verdict was read from: HELO when MAIL FROM is null, nothing for an address literal', () => {
    const spfOf = (v: string) => parseAuthResults(`x.test; ${v}`).verdicts[0]!.dns;
    expect(spfOf('spf=pass smtp.mailfrom=<> smtp.helo=Mail.B.test.')).toEqual([{ name: 'mail.b.test', type: 'TXT' }]);
    expect(spfOf('spf=none smtp.helo=[192.0.2.1]')).toEqual([]);
    expect(spfOf('dkim=pass header.d=c.test header.s=ed25519')).toEqual([{ name: 'ed25519._domainkey.c.test', type: 'TXT' }]);
    expect(spfOf('dkim=none')).toEqual([]);
  });

  it('auth: knows fail, pass and none; anything else is an exact error', () => {
    expect(() => parseQuery('auth:bad')).toThrow('auth: knows "fail", "pass" and "none", got "bad"');
    expect(() => parseQuery('auth:constructor')).toThrow('auth: knows "fail", "pass" and "none", got "constructor"');
  });
});

type Summary = { id: string; subject: string; auth: string; smtpId?: string };
type Verdict = { method: string; result: string; reason?: string; props: Record<string, string>; dns: Array<{ name: string; type: string }> };
type Queries = { queries: Array<{ summary: string; start: number }> };
type Message = Summary & { authResults: { authservId: string; verdicts: Verdict[]; fail: boolean } | null };

describe('a domain that signs and checks', () => {
  let w: World;
  beforeAll(async () => {
    w = await startWorld({ mailAuth: true });
  });
  afterAll(async () => {
    await w?.close();
  });
  const list = async (user: string, query = '') =>
    (await w.api<{ messages: Summary[] }>(`/api/v1/mailboxes/${user}/messages?query=${encodeURIComponent(query)}`)).body.messages;
  const arrived = (user: string, subject: string) => w.until(async () => (await list(user)).find((m) => m.subject === subject), `"${subject}"`);

  it('composed through submission: dkim=pass (both selectors) spf=pass dmarc=pass, in the list and the message', async () => {
    const [a, b] = w.s.users;
    const sent = await w.api('/api/v1/send', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ from: a!.name, to: b!.email, subject: 'firmado', text: 'hola' }),
    });
    expect(sent.status).toBe(200);
    const m = await arrived(b!.name, 'firmado');
    expect(m.auth).toBe('dkim=pass dkim=pass spf=pass arc=none dmarc=pass');
    const full = (await w.api<Message>(`/api/v1/messages/${m.id}`)).body;
    expect(full.authResults!.authservId).toBe(w.s.mail.auth.authservId);
    expect(full.authResults!.fail).toBe(false);
    const v = full.authResults!.verdicts;
    expect(v.filter((x) => x.method === 'dkim').map((x) => [x.result, x.props['header.i'], x.props['header.s']])).toEqual([
      ['pass', `@${w.s.domain}`, 'rsa'],
      ['pass', `@${w.s.domain}`, 'ed25519'],
    ]);
    expect(v.find((x) => x.method === 'spf')).toMatchObject({ result: 'pass', props: { 'smtp.mailfrom': a!.email } });
    expect(v.find((x) => x.method === 'dmarc')).toMatchObject({ result: 'pass', reason: 'p=REJECT arc=none', props: { 'header.from': w.s.domain } });

    // Each verdict's record, and the journal's queries for it before the message was accepted.
    const d = w.s.domain;
    expect(v.map((x) => x.dns.map((q) => `${q.name} ${q.type}`))).toEqual([
      [`rsa._domainkey.${d} TXT`],
      [`ed25519._domainkey.${d} TXT`],
      [`${d} TXT`],
      [],
      [`_dmarc.${d} TXT`],
    ]);
    const queriesFor = async (name: string, smtpId?: string) => w.api<Queries>(`/api/v1/dns/queries?name=${name}&type=txt${smtpId ? `&smtpId=${smtpId}` : ''}`);
    for (const q of v.flatMap((x) => x.dns)) {
      // The SMTP session and the DNS exchanges reach the console through the apps' journals, each
      // on its own flush: the message may be listed before them.
      const r = await w.until(async () => {
        const got = await queriesFor(q.name, m.smtpId);
        return got.status === 200 && got.body.queries.length > 0 ? got : undefined;
      }, `the queries for ${q.name} before ${m.smtpId}`);
      expect(r.body.queries[0]?.summary, q.name).toBe(`${q.name} TXT → NOERROR`);
    }
    // A query made after the message was accepted is not one it was read from.
    const before = (await queriesFor(`_dmarc.${d}`, m.smtpId)).body.queries;
    expect((await w.api(`/api/v1/dns/dig?name=_dmarc.${d}&type=TXT`)).status).toBe(200);
    // (the DNS app's journal reaches the console within its flush interval)
    await w.until(async () => (await queriesFor(`_dmarc.${d}`)).body.queries.length === before.length + 1 || undefined, 'the dig in the journal');
    expect((await queriesFor(`_dmarc.${d}`, m.smtpId)).body.queries).toEqual(before);
  });

  it('the queries of a verdict: bad questions and unknown messages get exact errors', async () => {
    const get = (q: string) => w.api<{ error: string }>(`/api/v1/dns/queries?${q}`);
    expect(await get('name=example.test')).toMatchObject({ status: 400, body: { error: 'name and type go together: ?name=<name>&type=<type>' } });
    expect((await get('name=example.test&type=T%20XT')).status).toBe(400);
    expect((await get('name=example.test&type=T%20XT')).body.error).toContain('expected a record type (A, TXT, MX...)');
    expect(await get('name=x&type=TXT&smtpId=1xNOPE-000000-01')).toMatchObject({
      status: 404,
      body: { error: 'no SMTP session of the journal accepted message 1xNOPE-000000-01' },
    });
  });

  it('forged from outside (127.0.0.2, From the domain, unsigned): spf=fail and dmarc=fail with their reasons; auth:fail finds it', async () => {
    const b = w.s.users[1]!;
    await w.swaks(['--local-interface', '127.0.0.2', '--from', w.s.users[0]!.email, '--to', b.email, '--header', 'Subject: falsificado']);
    const m = await arrived(b.name, 'falsificado');
    expect(m.auth).toBe('dkim=none spf=fail arc=none dmarc=fail');
    const full = (await w.api<Message>(`/api/v1/messages/${m.id}`)).body;
    expect(full.authResults!.fail).toBe(true);
    expect(full.authResults!.verdicts.find((x) => x.method === 'spf')!.reason).toBe(
      `${w.s.mail.auth.authservId}: domain of ${w.s.users[0]!.email} does not designate 127.0.0.2 as permitted sender`,
    );
    expect(full.authResults!.verdicts.find((x) => x.method === 'dkim')!.reason).toBe('message not signed');

    const subjects = async (q: string) => (await list(b.name, q)).map((x) => x.subject).sort();
    expect(await subjects('auth:fail')).toEqual(['falsificado']);
    expect(await subjects('auth:pass')).toEqual(['firmado']);
    expect(await subjects('-auth:fail')).toEqual(['firmado']);
    expect(await subjects('auth:none')).toEqual([]);
  });
});
