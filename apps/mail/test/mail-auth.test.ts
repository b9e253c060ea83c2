// Mail authentication judged from outside: our DKIM signatures verified by dkimpy (Debian's
// python3-dkim), dkimpy's signatures verified by us with the verdicts dkimpy gives, our SPF
// verdicts equal to Mail::SPF's spfquery for every mechanism and limit of RFC 7208, DMARC
// alignment and policies (RFC 7489), forged Authentication-Results removed (RFC 8601 §5), and
// through SMTP: signed submissions that verify, and enforcement (550 5.7.1, the Junk folder).
// Every DNS answer comes from our DNS app serving the scenario's zone and, behind it, the test zones.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintDkimKey } from '@sstt/pki';
import { certPaths, loadScenario, maildirOf, txtStrings, type Scenario } from '@sstt/scenario';
import { requireTool, run, tempDir, type Started } from '@sstt/testkit';
import {
  cachingResolver,
  createMailAuth,
  DNS_CACHE_MS,
  dnsResolver,
  removeOwnResults,
  type Client,
  type DkimSigningKey,
  type MailAuthOptions,
} from '../src/mail-auth.ts';
import { folderDir, JUNK_FOLDER } from '@sstt/maildir';
import { appEnv, startApp } from './app-process.ts';
import { type AuthDns, dkimpySign, dkimsign, dkimverify, spfquery, startAuthDns } from './auth-helpers.ts';
import { maildirFiles, startSmtp, testScenario, type TestWorld } from './helpers.ts';

const keys = tempDir('sstt-auth-keys-');
/** A key pair of the test world: its private key file (for dkimpy) and p=. */
function testKey(name: string, type: 'rsa' | 'ed25519') {
  const { privateKey, publicKey } = type === 'rsa' ? crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }) : crypto.generateKeyPairSync('ed25519');
  const file = path.join(keys.dir, `${name}.key`);
  // dkimpy reads PKCS#1 RSA keys and the raw 32-byte Ed25519 seed in base64 (its dknewkey's format).
  const pem =
    type === 'rsa'
      ? (privateKey.export({ type: 'pkcs1', format: 'pem' }) as string)
      : privateKey.export({ type: 'pkcs8', format: 'der' }).subarray(-32).toString('base64');
  fs.writeFileSync(file, pem, { mode: 0o600 });
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return { file, pem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, p: (type === 'rsa' ? der : der.subarray(-32)).toString('base64'), type };
}

const py = testKey('py', 'rsa');
const ed = testKey('ed', 'ed25519');
const other = testKey('other', 'rsa');

const txt = (text: string) =>
  txtStrings(text)
    .map((t) => `"${t}"`)
    .join(' ');
/** A master file: SOA, NS and the given records (owner relative to the origin). */
function zone(origin: string, records: string[]): { origin: string; text: string } {
  return {
    origin,
    text: [
      `$ORIGIN ${origin}.`,
      '$TTL 300',
      `@ SOA ns.${origin}. hostmaster.${origin}. 1 3600 900 604800 300`,
      `@ NS ns.${origin}.`,
      `ns A 127.0.0.1`,
      ...records,
      '',
    ].join('\n'),
  };
}

const ZONES = [
  zone('dkim.test', [
    `@ TXT ${txt('v=spf1 ip4:127.0.0.1 -all')}`,
    `py._domainkey TXT ${txt(`v=DKIM1; k=rsa; p=${py.p}`)}`,
    `ed._domainkey TXT ${txt(`v=DKIM1; k=ed25519; p=${ed.p}`)}`,
    // The selector "wrong" publishes another key than the one that signs with it.
    `wrong._domainkey TXT ${txt(`v=DKIM1; k=rsa; p=${other.p}`)}`,
    `_dmarc TXT ${txt('v=DMARC1; p=reject')}`,
  ]),
  zone('quarantine.test', [`@ TXT ${txt('v=spf1 -all')}`, `_dmarc TXT ${txt('v=DMARC1; p=quarantine')}`]),
  zone('strict.test', [
    `@ TXT ${txt('v=spf1 ip4:127.0.0.1 -all')}`,
    `_dmarc TXT ${txt('v=DMARC1; p=reject; adkim=s; aspf=s')}`,
    `sub TXT ${txt('v=spf1 ip4:127.0.0.1 -all')}`,
  ]),
  zone('relaxed.test', [`@ TXT ${txt('v=spf1 ip4:127.0.0.1 -all')}`, `_dmarc TXT ${txt('v=DMARC1; p=reject')}`, `sub TXT ${txt('v=spf1 ip4:127.0.0.1 -all')}`]),
  zone('org.test', [`@ TXT ${txt('v=spf1 -all')}`, `_dmarc TXT ${txt('v=DMARC1; p=none; sp=reject')}`, `sub TXT ${txt('v=spf1 -all')}`]),
  zone('pct.test', [`@ TXT ${txt('v=spf1 -all')}`, `_dmarc TXT ${txt('v=DMARC1; p=reject; pct=30')}`]),
  zone('nodmarc.test', [`@ TXT ${txt('v=spf1 -all')}`]),
  zone('0.0.127.in-addr.arpa', ['1 PTR a.spf.test.', '2 PTR a.spf.test.']),
  zone('spf.test', [
    `a TXT ${txt('v=spf1 a -all')}`,
    'a A 127.0.0.1',
    `mx TXT ${txt('v=spf1 mx -all')}`,
    'mx MX 10 mail.spf.test.',
    'mail A 127.0.0.3',
    `ip4 TXT ${txt('v=spf1 ip4:127.0.0.0/30 -all')}`,
    `ip6 TXT ${txt('v=spf1 ip6:::1 -all')}`,
    `include TXT ${txt('v=spf1 include:ip4.spf.test -all')}`,
    `redirect TXT ${txt('v=spf1 redirect=ip4.spf.test')}`,
    `exists TXT ${txt('v=spf1 exists:%{i}.ok.spf.test -all')}`,
    '127.0.0.1.ok A 127.0.0.2',
    // Macros (RFC 7208 §7): the local part and the reversed address, each expanded.
    `macro TXT ${txt('v=spf1 exists:%{l}.%{ir}.allow.spf.test -all')}`,
    'alice.1.0.0.127.allow A 127.0.0.2',
    // ptr (RFC 7208 §5.5, "SHOULD NOT be used" but defined): 127.0.0.1's name a.spf.test is under spf.test.
    `ptr TXT ${txt('v=spf1 ptr:spf.test -all')}`,
    // exp= (§6.2) explains a fail; it does not change the result.
    `exp TXT ${txt('v=spf1 -all exp=why.spf.test')}`,
    `why TXT ${txt('%{i} may not send for %{d}')}`,
    `soft TXT ${txt('v=spf1 ~all')}`,
    `neutral TXT ${txt('v=spf1 ?all')}`,
    `bad TXT ${txt('v=spf1 frobnicate -all')}`,
    // Eleven DNS-querying terms: past the limit of 10 (§4.6.4) whatever they say.
    `limit TXT ${txt(`v=spf1 ${Array.from({ length: 11 }, (_, i) => `a:n${i}.spf.test`).join(' ')} -all`)}`,
    ...Array.from({ length: 11 }, (_, i) => `n${i} A 192.0.2.${i + 1}`),
    // Three names that do not exist: past the two void lookups allowed (§4.6.4).
    `void TXT ${txt('v=spf1 a:v1.spf.test a:v2.spf.test a:v3.spf.test -all')}`,
    // A name nobody serves: our DNS forwards it to a forwarder that never answers (SERVFAIL).
    `down TXT ${txt('v=spf1 include:unreachable.invalid -all')}`,
  ]),
];

let w: TestWorld;
let s: Scenario;
let dns: AuthDns;
/** The scenario's signing keys, as main.ts reads them. */
let signingKeys: DkimSigningKey[];

beforeAll(async () => {
  w = testScenario();
  for (const k of w.s.mail.auth.dkim) mintDkimKey(w.s, k);
  // Loaded again now that certs/dkim holds the keys: the zone publishes them.
  s = loadScenario({ env: { SSTT_CERTS_DIR: w.s.paths.certs, SSTT_DATA_DIR: w.s.paths.data }, flags: {}, configFile: undefined });
  signingKeys = s.mail.auth.dkim.map((k) => ({
    selector: k.selector,
    algorithm: k.algorithm,
    privateKey: fs.readFileSync(certPaths(s).dkim(k.selector).key, 'utf8'),
  }));
  dns = await startAuthDns(s, ZONES);
});
afterAll(async () => {
  await dns?.close();
  w?.remove();
  keys.remove();
});

function auth(o: Partial<MailAuthOptions> = {}) {
  return createMailAuth({
    authservId: s.mail.auth.authservId,
    domain: s.domain,
    signingKeys,
    verify: true,
    enforce: false,
    resolver: dnsResolver({ host: '127.0.0.1', port: dns.port }),
    ...o,
  });
}

const outside: Client = { ip: '127.0.0.2', helo: 'mta.outside.test', mailFrom: '', trusted: false };
const message = (from: string, extra = '') =>
  Buffer.from(
    `From: <${from}>\r\nTo: <${s.users[0]!.email}>\r\nSubject: prueba\r\nDate: Tue, 1 Oct 2024 10:00:00 +0000\r\nMessage-ID: <${crypto.randomUUID()}@test>\r\n${extra}\r\nHola.\r\n`,
    'latin1',
  );

/** Our Authentication-Results of a processed message: its result rows, folded lines joined. */
function results(stored: Buffer): string[] {
  const m = /^Authentication-Results: ([^;]+);\r\n((?: [^\r\n]*\r\n)+)/.exec(stored.toString('latin1'));
  if (!m || m[1] !== s.mail.auth.authservId) throw new Error(`no Authentication-Results of ours at the top: ${stored.toString('latin1').slice(0, 300)}`);
  return m[2]!
    .replace(/\r\n /g, ' ')
    .trim()
    .split(/;\s*/)
    .map((r) => r.trim());
}
const resultOf = (rows: string[], method: string) => rows.filter((r) => r.startsWith(`${method}=`)).map((r) => r.split(/[\s]/)[0]!.slice(method.length + 1));

describe('our signatures, judged by dkimpy', () => {
  it("a trusted client's message gets two signatures (RSA and Ed25519, relaxed/relaxed, d= the domain) that dkimverify accepts; we say pass too", async () => {
    const from = s.users[0]!.email;
    const out = await auth().process(message(from), { ip: '127.0.0.1', helo: 'cliente', mailFrom: from, trusted: true });
    const text = out.message.toString('latin1');
    const sigs = [...text.matchAll(/^DKIM-Signature: ((?:[^\r\n]*\r\n)(?:[ \t][^\r\n]*\r\n)*)/gm)].map((m) => m[1]!.replace(/\r\n[ \t]*/g, ' '));
    expect(sigs).toHaveLength(2);
    expect(sigs[0]).toMatch(new RegExp(`a=rsa-sha256; c=relaxed/relaxed; d=${s.domain.replace('.', '\\.')};`));
    expect(sigs[0]).toMatch(/ s=rsa;/);
    expect(sigs[1]).toMatch(/a=ed25519-sha256; c=relaxed\/relaxed;/);
    expect(sigs[1]).toMatch(/ s=ed25519;/);
    // The fields of RFC 6376 §5.4.1 the message has, and nothing added in transit (Received).
    const h = /h=([^;]+);/.exec(sigs[0]!)![1]!.toLowerCase().split(/:\s*/);
    expect(new Set(h)).toEqual(new Set(['message-id', 'date', 'subject', 'to', 'from']));
    for (const index of [0, 1]) {
      const v = await dkimverify(out.message, dns.port, index);
      expect(v.stdout.trim(), v.stderr).toBe('signature ok');
      expect(v.code).toBe(0);
    }
    const rows = results(out.message);
    expect(resultOf(rows, 'dkim')).toEqual(['pass', 'pass']);
    expect(rows.find((r) => r.startsWith('spf='))).toBe(
      `spf=pass (${s.mail.auth.authservId}: domain of ${from} designates 127.0.0.1 as permitted sender) smtp.mailfrom=${from} smtp.helo=cliente`,
    );
    expect(resultOf(rows, 'dmarc')).toEqual(['pass']);
    expect(resultOf(rows, 'arc')).toEqual(['none']);
    expect(out.summary).toBe('dkim=pass dkim=pass spf=pass arc=none dmarc=pass');
    expect(out.disposition).toEqual({ action: 'deliver' });

    // A changed body: dkimpy and we both say the signature no longer verifies.
    const tampered = Buffer.from(text.replace('Hola.', 'Adios.'), 'latin1');
    expect((await dkimverify(tampered, dns.port)).code).toBe(1);
    const again = await auth().process(tampered, outside);
    expect(results(again.message).filter((r) => r.startsWith('dkim='))).toEqual([
      expect.stringMatching(/^dkim=neutral \(body hash did not verify\) header\.i=@/),
      expect.stringMatching(/^dkim=neutral \(body hash did not verify\) header\.i=@/),
    ]);
  });

  it("an untrusted client's message is not signed", async () => {
    const out = await auth().process(message('x@dkim.test'), outside);
    expect(out.message.toString('latin1')).not.toContain('DKIM-Signature:');
    expect(resultOf(results(out.message), 'dkim')).toEqual(['none']);
  });
});

describe("dkimpy's signatures, verified by us as dkimpy verifies them", () => {
  /** dkimpy's verdict and ours (the first signature's) on one message. */
  async function both(signed: Buffer): Promise<{ dkimpy: boolean; ours: string; row: string }> {
    const v = await dkimverify(signed, dns.port);
    const out = await auth().process(signed, outside);
    const row = results(out.message).find((r) => r.startsWith('dkim='))!;
    return { dkimpy: v.code === 0 && v.stdout.trim() === 'signature ok', ours: row.split(' ')[0]!.slice(5), row };
  }
  const sign = (msg: Buffer, selector: string, keyFile = py.file, algorithm = 'rsa-sha256') =>
    dkimsign(msg, { selector, domain: 'dkim.test', keyFile, algorithm });

  it('intact, RSA and Ed25519: pass', async () => {
    expect(await both(await sign(message('a@dkim.test'), 'py'))).toMatchObject({ dkimpy: true, ours: 'pass' });
    expect(await both(await sign(message('a@dkim.test'), 'ed', ed.file, 'ed25519-sha256'))).toMatchObject({ dkimpy: true, ours: 'pass' });
  });

  it('a changed body, a changed signed header, a wrong key: fail', async () => {
    const signed = (await sign(message('a@dkim.test'), 'py')).toString('latin1');
    // mailauth, as Gmail, says neutral with the reason for a signature it could not check to the
    // end (RFC 8601 §2.7.1), fail for one that does not verify: both are RFC 6376's PERMFAIL.
    const body = await both(Buffer.from(signed.replace('Hola.', 'Hola!'), 'latin1'));
    expect(body).toMatchObject({ dkimpy: false, ours: 'neutral' });
    expect(body.row).toContain('(body hash did not verify)');
    const header = await both(Buffer.from(signed.replace('Subject: prueba', 'Subject: pagado'), 'latin1'));
    expect(header).toMatchObject({ dkimpy: false, ours: 'fail' });
    expect(header.row).toContain('(bad signature)');
    const wrong = await both(await sign(message('a@dkim.test'), 'wrong'));
    expect(wrong).toMatchObject({ dkimpy: false, ours: 'fail' });
    expect(wrong.row).toContain('(bad signature)');
  });

  it('no key record for the selector: not a pass for either (RFC 6376 §6.1.2: no key)', async () => {
    const gone = await both(await sign(message('a@dkim.test'), 'gone'));
    expect(gone.dkimpy).toBe(false);
    expect(gone.row).toMatch(/^dkim=neutral \(no key\) /);
  });

  it('an expired signature (x= in the past, RFC 6376 §3.5): fail for both', async () => {
    const { dkimSign } = await import('mailauth');
    const msg = message('a@dkim.test');
    const old = await dkimSign(msg, {
      canonicalization: 'relaxed/relaxed',
      signTime: new Date(Date.now() - 7 * 86_400_000),
      expires: new Date(Date.now() - 86_400_000),
      signatureData: [{ signingDomain: 'dkim.test', selector: 'py', privateKey: py.pem, algorithm: 'rsa-sha256' }],
    } as unknown as Parameters<typeof dkimSign>[1]);
    expect(old.signatures).toMatch(/\bx=\d+;/);
    const r = await both(Buffer.concat([Buffer.from(old.signatures), msg]));
    expect(r).toMatchObject({ dkimpy: false, ours: 'neutral' });
    expect(r.row).toMatch(/^dkim=neutral \(expired\) /);
  });

  it('l= (body length): text appended after the signed length still verifies, for dkimpy and for us (RFC 6376 §8.2 says why l= is risky)', async () => {
    const signed = await dkimpySign(message('a@dkim.test'), { selector: 'py', domain: 'dkim.test', keyFile: py.file, length: true });
    expect(signed.toString('latin1')).toMatch(/\bl=\d+;/);
    const appended = Buffer.concat([signed, Buffer.from('Click http://evil.test/ now.\r\n', 'latin1')]);
    expect(await both(appended)).toMatchObject({ dkimpy: true, ours: 'pass' });
    // A body cut short of l= fails for both.
    const cut = Buffer.from(signed.toString('latin1').replace('Hola.\r\n', ''), 'latin1');
    expect(await both(cut)).toMatchObject({ dkimpy: false, ours: 'neutral' });
  });

  it('a From not aligned with the signing domain: DKIM passes, DMARC fails (RFC 7489 §3.1)', async () => {
    const out = await auth().process(await sign(message('a@relaxed.test'), 'py'), { ...outside, mailFrom: 'bounce@relaxed.test' });
    const rows = results(out.message);
    expect(resultOf(rows, 'dkim')).toEqual(['pass']);
    expect(resultOf(rows, 'spf')[0]).toBe('fail');
    expect(resultOf(rows, 'dmarc')).toEqual(['fail']);
  });
});

describe("SPF: our verdicts are spfquery's (RFC 7208)", () => {
  const cases: Array<{ what: string; ip: string; from: string; want: string }> = [
    { what: 'a: the address of the domain', ip: '127.0.0.1', from: 'u@a.spf.test', want: 'pass' },
    { what: 'a: another address', ip: '127.0.0.2', from: 'u@a.spf.test', want: 'fail' },
    { what: 'mx: the MX host', ip: '127.0.0.3', from: 'u@mx.spf.test', want: 'pass' },
    { what: 'mx: not the MX', ip: '127.0.0.1', from: 'u@mx.spf.test', want: 'fail' },
    { what: 'ip4 with a prefix', ip: '127.0.0.3', from: 'u@ip4.spf.test', want: 'pass' },
    { what: 'ip4 outside the prefix', ip: '127.0.0.4', from: 'u@ip4.spf.test', want: 'fail' },
    { what: 'ip6', ip: '::1', from: 'u@ip6.spf.test', want: 'pass' },
    { what: 'include', ip: '127.0.0.2', from: 'u@include.spf.test', want: 'pass' },
    { what: 'redirect', ip: '127.0.0.9', from: 'u@redirect.spf.test', want: 'fail' },
    { what: 'exists with %{i}', ip: '127.0.0.1', from: 'u@exists.spf.test', want: 'pass' },
    { what: 'macros %{l} and %{ir}', ip: '127.0.0.1', from: 'alice@macro.spf.test', want: 'pass' },
    { what: 'macros, another local part', ip: '127.0.0.1', from: 'bob@macro.spf.test', want: 'fail' },
    { what: 'ptr: the validated name is under the domain', ip: '127.0.0.1', from: 'u@ptr.spf.test', want: 'pass' },
    { what: 'ptr: a name that does not validate (its A is not the address)', ip: '127.0.0.2', from: 'u@ptr.spf.test', want: 'fail' },
    { what: 'exp= keeps the fail', ip: '127.0.0.1', from: 'u@exp.spf.test', want: 'fail' },
    { what: '~all', ip: '127.0.0.1', from: 'u@soft.spf.test', want: 'softfail' },
    { what: '?all', ip: '127.0.0.1', from: 'u@neutral.spf.test', want: 'neutral' },
    { what: 'no record', ip: '127.0.0.1', from: 'u@nodmarc-none.spf.test', want: 'none' },
    { what: 'an unknown mechanism', ip: '127.0.0.1', from: 'u@bad.spf.test', want: 'permerror' },
    { what: 'more than 10 DNS lookups', ip: '127.0.0.1', from: 'u@limit.spf.test', want: 'permerror' },
    { what: 'more than 2 void lookups', ip: '127.0.0.1', from: 'u@void.spf.test', want: 'permerror' },
    { what: 'a forwarder unreachable', ip: '127.0.0.1', from: 'u@down.spf.test', want: 'temperror' },
  ];
  for (const c of cases) {
    it(`${c.what}: ${c.want}`, async () => {
      const out = await auth().process(message(c.from), { ip: c.ip, helo: 'mta.outside.test', mailFrom: c.from, trusted: false });
      const ours = resultOf(results(out.message), 'spf')[0];
      const theirs = await spfquery({ scope: 'mfrom', identity: c.from, ip: c.ip, helo: 'mta.outside.test' }, dns.port);
      expect({ ours, theirs }).toEqual({ ours: c.want, theirs: c.want });
    });
  }

  it('HELO is checked as its own identity (RFC 7208 §2.3) when MAIL FROM is not null', async () => {
    const out = await auth().process(message('u@a.spf.test'), { ip: '127.0.0.2', helo: 'a.spf.test', mailFrom: 'u@ip4.spf.test', trusted: false });
    const rows = results(out.message);
    expect(rows.filter((r) => r.startsWith('spf='))).toEqual([
      expect.stringMatching(/^spf=pass .*smtp\.mailfrom=u@ip4\.spf\.test/),
      'spf=fail smtp.helo=a.spf.test',
    ]);
    expect(await spfquery({ scope: 'helo', identity: 'a.spf.test', ip: '127.0.0.2' }, dns.port)).toBe('fail');
  });
});

describe('DMARC (RFC 7489)', () => {
  const dmarc = async (from: string, client: Partial<Client>, o: Partial<MailAuthOptions> = {}) => {
    const out = await auth({ enforce: true, ...o }).process(message(from), { ...outside, ...client });
    return { row: results(out.message).find((r) => r.startsWith('dmarc='))!, disposition: out.disposition };
  };

  it('relaxed alignment: SPF of the organizational domain aligns with a From of its subdomain', async () => {
    const r = await dmarc('x@sub.relaxed.test', { ip: '127.0.0.1', mailFrom: 'b@relaxed.test' });
    expect(r.row).toMatch(/^dmarc=pass /);
    expect(r.disposition).toEqual({ action: 'deliver' });
  });

  it('strict alignment: the same does not align; p=reject refuses it', async () => {
    const r = await dmarc('x@sub.strict.test', { ip: '127.0.0.1', mailFrom: 'b@strict.test' });
    expect(r.row).toMatch(/^dmarc=fail /);
    expect(r.disposition).toEqual({ action: 'reject', reason: 'strict.test publishes DMARC p=reject and this message has no aligned SPF or DKIM pass' });
  });

  it("a subdomain gets the organizational record's sp= (p=none, sp=reject)", async () => {
    expect((await dmarc('x@org.test', { mailFrom: 'x@org.test' })).disposition).toEqual({ action: 'deliver' });
    expect((await dmarc('x@sub.org.test', { mailFrom: 'x@sub.org.test' })).disposition).toMatchObject({ action: 'reject' });
  });

  it('pct=30: a message inside the sample gets the policy, one outside the next milder one (§6.6.4)', async () => {
    expect((await dmarc('x@pct.test', {}, { random: () => 0.1 })).disposition).toMatchObject({ action: 'reject' });
    expect((await dmarc('x@pct.test', {}, { random: () => 0.5 })).disposition).toEqual({
      action: 'quarantine',
      reason: 'pct.test publishes DMARC p=reject pct=30 and this message has no aligned SPF or DKIM pass',
    });
  });

  it('p=quarantine; no record at all is dmarc=none and delivered', async () => {
    expect((await dmarc('x@quarantine.test', {})).disposition).toMatchObject({ action: 'quarantine' });
    const none = await dmarc('x@nodmarc.test', {});
    expect(none.row).toMatch(/^dmarc=none /);
    expect(none.disposition).toEqual({ action: 'deliver' });
  });

  it('record only (enforce off): a failing message is delivered with dmarc=fail; a trusted client is never refused', async () => {
    expect((await dmarc('x@dkim.test', {}, { enforce: false })).disposition).toEqual({ action: 'deliver' });
    expect((await dmarc('x@dkim.test', { trusted: true })).disposition).toEqual({ action: 'deliver' });
  });
});

describe('Authentication-Results forgery (RFC 8601 §5)', () => {
  it("results that claim our authserv-id are removed, whatever the case or comments; others' stay; ours is the one on top", async () => {
    const id = s.mail.auth.authservId;
    const forged = message(
      'x@dkim.test',
      `Authentication-Results: ${id}; dkim=pass header.d=dkim.test; dmarc=pass\r\nAuthentication-Results: (forged) ${id.toUpperCase()};\r\n spf=pass\r\nAuthentication-Results: mx.elsewhere.test; spf=fail\r\n`,
    );
    const out = await auth().process(forged, outside);
    const fields = out.message.toString('latin1').match(/^Authentication-Results:[^\r\n]*/gm)!;
    expect(fields).toEqual([`Authentication-Results: ${id};`, 'Authentication-Results: mx.elsewhere.test; spf=fail']);
    expect(resultOf(results(out.message), 'dmarc')).toEqual(['fail']);
    // Nothing of ours to remove: the very same bytes.
    const clean = message('x@dkim.test');
    expect(removeOwnResults(clean, id)).toBe(clean);
  });
});

describe('the resolver cache', () => {
  it('one question for lookups together or within the cache time; again after it; "no such name" kept, SERVFAIL not', async () => {
    let clock = 0;
    const asked: string[] = [];
    const inner = async (name: string, type: string) => {
      asked.push(`${name} ${type}`);
      if (name === 'gone.test') throw Object.assign(new Error('nx'), { code: 'ENOTFOUND' });
      if (name === 'broken.test') throw Object.assign(new Error('servfail'), { code: 'ESERVFAIL' });
      return [['v=spf1 -all']];
    };
    const r = cachingResolver(inner, { maxAgeMs: 1000, now: () => clock });
    const [a, b] = await Promise.all([r('X.test', 'TXT'), r('x.test', 'TXT')]);
    expect(a).toBe(b);
    await r('x.test', 'TXT');
    await r('x.test', 'MX');
    clock = 1000;
    await r('x.test', 'TXT');
    for (const n of ['gone.test', 'gone.test', 'broken.test', 'broken.test']) await r(n, 'TXT').catch(() => {});
    expect(asked).toEqual(['X.test TXT', 'x.test MX', 'x.test TXT', 'gone.test TXT', 'broken.test TXT', 'broken.test TXT']);
  });

  it("SPF's verdict is reused for one client, sender and HELO while the answers are (5 s), asked again after, for another client, and after a temperror", async () => {
    let clock = 0;
    const asked: string[] = [];
    let failing = false;
    const real = dnsResolver({ host: '127.0.0.1', port: dns.port });
    const resolver = (async (name: string, type: string) => {
      asked.push(`${name} ${type}`);
      if (failing && name === s.domain) throw Object.assign(new Error('servfail'), { code: 'ESERVFAIL', spfResult: { error: 'temperror', text: 'test' } });
      return real(name, type as never);
    }) as typeof real;
    const a = auth({ resolver, clock: () => clock });
    const from = s.users[0]!.email;
    const spfAsked = () => asked.filter((q) => q === `${s.domain} TXT`).length;
    const spfFor = async (ip: string) =>
      resultOf(results((await a.process(message(from), { ip, helo: 'cliente', mailFrom: from, trusted: false })).message), 'spf');
    expect(await spfFor('127.0.0.1')).toEqual(['pass']);
    expect(spfAsked()).toBe(1);
    clock = DNS_CACHE_MS - 1;
    expect(await spfFor('127.0.0.1')).toEqual(['pass']);
    expect(spfAsked()).toBe(1);
    expect(await spfFor('127.0.0.2')).toEqual(['fail']);
    expect(spfAsked()).toBe(2);
    clock = DNS_CACHE_MS;
    expect(await spfFor('127.0.0.1')).toEqual(['pass']);
    expect(spfAsked()).toBe(3);
    // A temperror is the DNS's failure, not the domain's answer: the next message asks again.
    failing = true;
    clock = 3 * DNS_CACHE_MS;
    expect(await spfFor('127.0.0.1')).toEqual(['temperror']);
    expect(await spfFor('127.0.0.1')).toEqual(['temperror']);
    expect(spfAsked()).toBe(5);
  });

  it('holds at most maxEntries answers, dropping the oldest', async () => {
    const asked: string[] = [];
    const r = cachingResolver(
      async (name) => {
        asked.push(name);
        return [['x']];
      },
      { maxEntries: 2 },
    );
    for (const n of ['a', 'b', 'c', 'a']) await r(n, 'TXT');
    expect(asked).toEqual(['a', 'b', 'c', 'a']);
  });
});

describe('through SMTP', () => {
  let smtp: Started;
  let submission: Started;
  let swaks: string;
  beforeAll(async () => {
    swaks = requireTool('swaks');
    const a = auth({ enforce: true });
    smtp = await startSmtp({ scenario: s, auth: a });
    submission = await startSmtp({ scenario: s, auth: a, submission: true });
  });
  afterAll(async () => {
    await smtp?.close();
    await submission?.close();
  });
  /** swaks to our SMTP port from 127.0.0.2, outside the relay networks, for the second user. */
  const fromOutside = (from: string) =>
    run(swaks, ['--server', `127.0.0.1:${smtp.port}`, '--local-interface', '127.0.0.2', '--from', from, '--to', s.users[1]!.email]);
  const inbox = (u = s.users[1]!) => maildirFiles(maildirOf(s, u.name));
  const junk = (u = s.users[1]!) => maildirFiles(folderDir(maildirOf(s, u.name), JUNK_FOLDER));
  /** The inbox's tmp/: the file opened while a message was checked is gone once the reply is sent. */
  const inboxTmp = (u = s.users[1]!) => fs.readdirSync(path.join(maildirOf(s, u.name), 'tmp'));

  it('a submission with AUTH arrives signed, verifies with dkimpy and shows dkim=pass spf=pass dmarc=pass', async () => {
    const [u1, u2] = s.users as [Scenario['users'][0], Scenario['users'][0]];
    const before = inbox().length;
    const r = await run(swaks, [
      '--server',
      `127.0.0.1:${submission.port}`,
      '--auth',
      'PLAIN',
      '--auth-user',
      u1.name,
      '--auth-password',
      u1.password,
      '--from',
      u1.email,
      '--to',
      u2.email,
      '--header',
      'Subject: firmado',
    ]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const stored = fs.readFileSync(inbox().at(-1)!);
    expect(inbox().length).toBe(before + 1);
    expect(stored.toString('latin1')).toMatch(/^Return-Path: <[^>]+>\r\nReceived: [^\r]*\r\n(\t[^\r]*\r\n)*Authentication-Results: /);
    const rows = results(Buffer.from(stored.toString('latin1').replace(/^Return-Path:[^\r]*\r\nReceived:[^\r]*\r\n(\t[^\r]*\r\n)*/, ''), 'latin1'));
    expect(rows.map((x) => x.split(' ')[0])).toEqual(['dkim=pass', 'dkim=pass', 'spf=pass', 'arc=none', 'dmarc=pass']);
    for (const index of [0, 1]) expect((await dkimverify(stored, dns.port, index)).stdout.trim()).toBe('signature ok');
  });

  it('enforcing: p=reject from outside gets 550 5.7.1 with the reason and nothing is stored', async () => {
    const before = [inbox().length, junk().length];
    const r = await fromOutside('x@dkim.test');
    expect(r.code).not.toBe(0);
    expect(r.stdout).toContain('<** 550 5.7.1 dkim.test publishes DMARC p=reject and this message has no aligned SPF or DKIM pass');
    expect([inbox().length, junk().length]).toEqual(before);
    expect(inboxTmp()).toEqual([]);
  });

  it('enforcing: p=quarantine from outside lands in the Junk folder (a Maildir++ folder), not the inbox', async () => {
    const before = [inbox().length, junk().length];
    const r = await fromOutside('x@quarantine.test');
    expect(r.code, r.stdout).toBe(0);
    expect([inbox().length, junk().length]).toEqual([before[0], before[1]! + 1]);
    expect(inboxTmp()).toEqual([]);
    expect(fs.existsSync(path.join(folderDir(maildirOf(s, s.users[1]!.name), JUNK_FOLDER), 'maildirfolder'))).toBe(true);
    expect(fs.readFileSync(junk().at(-1)!, 'latin1')).toMatch(/dmarc=fail /);
  });
});

describe('the app (main.ts)', () => {
  it("signs with the keys of certs/dkim and checks through the scenario's DNS: a submission arrives with dkim=pass spf=pass dmarc=pass", async () => {
    const app = await startApp({ ...appEnv(s), SSTT_DNS_PORT: String(dns.port) }, ['smtp', 'submission']);
    try {
      const [u1, u2] = s.users as [Scenario['users'][0], Scenario['users'][0]];
      const box = maildirOf(s, u2.name);
      const before = maildirFiles(box).length;
      const r = await run(requireTool('swaks'), [
        '--server',
        `127.0.0.1:${app.ports.submission}`,
        '--auth',
        'LOGIN',
        '--auth-user',
        u1.name,
        '--auth-password',
        u1.password,
        '--from',
        u1.email,
        '--to',
        u2.email,
        '--header',
        'Subject: desde la app',
      ]);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const stored = fs.readFileSync(maildirFiles(box).at(-1)!);
      expect(maildirFiles(box).length).toBe(before + 1);
      const text = stored.toString('latin1');
      expect(text).toContain(`Authentication-Results: ${s.mail.auth.authservId};`);
      expect(text).toMatch(/^ dkim=pass header\.i=@[^ ]+ header\.s=rsa /m);
      expect(text).toMatch(/^ dkim=pass header\.i=@[^ ]+ header\.s=ed25519 /m);
      expect(text).toMatch(/^ spf=pass /m);
      expect(text).toMatch(/^ dmarc=pass /m);
      expect((await dkimverify(stored, dns.port)).stdout.trim()).toBe('signature ok');
    } finally {
      app.child.kill('SIGTERM');
      await app.exited;
    }
  });
});
