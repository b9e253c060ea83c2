// Mail authentication on receipt, with mailauth (postalsys), the library of the field, for the
// checks themselves; written here only what it leaves to the MTA:
// - the DKIM signature of our users' mail (RFC 6376, relaxed/relaxed, each selector: RSA and
//   Ed25519 per RFC 8463), added before the message is stored or forwarded;
// - every received message's verdicts (SPF for MAIL FROM and HELO, RFC 7208 §2.3-2.4; every
//   DKIM signature; ARC, RFC 8617; DMARC, RFC 7489) as one Authentication-Results header with our
//   authserv-id (RFC 8601), after removing any that claims our authserv-id (§5);
// - what a DMARC failure does (`mail.auth.enforce`): nothing but the record (the default), or the
//   sender domain's policy for mail from outside: reject (550 5.7.1) or quarantine (Junk), with
//   pct sampling (RFC 7489 §6.6.4).
// Every DNS question goes to the resolver given, which main.ts points at our DNS app (it answers
// our zone and forwards the rest): never the machine's resolver.
import dns from 'node:dns';
import type { Endpoint } from '@sstt/scenario';
import { isIP } from 'node:net';
import type { AuthenticateResult, DNSResolver, SPFResult } from 'mailauth';
import { CrlfNormalizer } from './maildir.ts';
import { commonJs } from '@sstt/runtime';

export type { DNSResolver };

let mailauth: Promise<typeof import('mailauth')> | undefined;
/**
 * mailauth and its dependency tree (joi, undici, tldts, the public suffix list) take longer to
 * load than the rest of the mail app together (~140 ms of its ~300 ms start-up, --cpu-prof): it is
 * loaded on first use, and main.ts asks for it once the listeners are up, so neither the start nor
 * the first message waits for it.
 */
export const loadMailauth = () => (mailauth ??= import('mailauth').then(commonJs));

/** One DNS try waits this long (c-ares' default is 5 s); a dead DNS makes a temperror, not a stalled SMTP session. */
export const DNS_TIMEOUT_MS = 2000;
export const DNS_TRIES = 2;

/**
 * The header fields each signature covers: RFC 6376 §5.4.1's recommended list (From, which it
 * requires, Reply-To, Subject, Date, To, Cc, the Resent-* fields, In-Reply-To, References, the
 * List-* fields of RFC 2369/2919), plus the fields that identify and shape the message (Sender,
 * Message-ID, MIME-Version, Content-Type, Content-Transfer-Encoding). Not Received or
 * Return-Path (§5.4.1: "SHOULD NOT"): relays add and change them. A listed field absent from the
 * message is not signed.
 */
export const SIGNED_HEADERS = [
  'From',
  'Sender',
  'Reply-To',
  'Subject',
  'Date',
  'Message-ID',
  'To',
  'Cc',
  'MIME-Version',
  'Content-Type',
  'Content-Transfer-Encoding',
  'Resent-Date',
  'Resent-From',
  'Resent-Sender',
  'Resent-To',
  'Resent-Cc',
  'Resent-Message-ID',
  'In-Reply-To',
  'References',
  'List-Id',
  'List-Help',
  'List-Unsubscribe',
  'List-Subscribe',
  'List-Post',
  'List-Owner',
  'List-Archive',
];

/**
 * A resolver (mailauth's shape, dns.promises.resolve's) asking only `server`.
 *
 * A DNS failure other than "no such name" or "no data" (SERVFAIL, a timeout, a refusal) is
 * SPF's temperror (RFC 7208 §4.4, §5.2: inside an include too). mailauth 4.13 marks only
 * timeouts and refusals so; any other failure inside an include is swallowed and the include
 * simply does not match (a `-all` then makes it a fail). The error is marked here, as mailauth
 * marks the two it knows (`spfResult`); DKIM and DMARC read only its code.
 */
export function dnsResolver(server: Endpoint, opts: { timeoutMs?: number; tries?: number } = {}): DNSResolver {
  const r = new dns.promises.Resolver({ timeout: opts.timeoutMs ?? DNS_TIMEOUT_MS, tries: opts.tries ?? DNS_TRIES });
  r.setServers([server.host.includes(':') ? `[${server.host}]:${server.port}` : `${server.host}:${server.port}`]);
  return async (name, rrtype) => {
    try {
      return (await r.resolve(name, rrtype)) as string[][] | string[];
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { spfResult?: { error: string; text: string } };
      if (e.code !== 'ENOTFOUND' && e.code !== 'ENODATA') e.spfResult ??= { error: 'temperror', text: `DNS failure for ${name} ${rrtype}: ${e.code}` };
      throw e;
    }
  };
}

/**
 * How long an answer is reused. The resolver library gives no TTL for TXT or MX answers, so the
 * cache cannot honour each record's: it keeps every answer (and "no such name"/"no data") this
 * long at most, far under the TTLs of our zone (3600 s; the SOA's negative TTL 300 s), so a
 * foreign record is used at most a few seconds past its TTL. Mail in a burst asks the same six to
 * eight names each time (SPF, MX, the DKIM keys, DMARC): this is what keeps that off the wire.
 */
export const DNS_CACHE_MS = 5000;
/** Answers kept at most (the oldest go first). */
export const DNS_CACHE_ENTRIES = 10_000;

/**
 * A resolver that reuses answers for `maxAgeMs` and asks once for lookups in flight together.
 * Failures other than "no such name"/"no data" (SERVFAIL, timeouts) are never kept.
 */
export function cachingResolver(inner: DNSResolver, o: { maxAgeMs?: number; maxEntries?: number; now?: () => number } = {}): DNSResolver {
  const maxAge = o.maxAgeMs ?? DNS_CACHE_MS;
  const maxEntries = o.maxEntries ?? DNS_CACHE_ENTRIES;
  const now = o.now ?? Date.now;
  const cache = new Map<string, { until: number; answer: Promise<string[][] | string[]> }>();
  return (name, rrtype) => {
    const key = `${name.toLowerCase()} ${rrtype}`;
    const hit = cache.get(key);
    if (hit && hit.until > now()) return hit.answer;
    cache.delete(key);
    const answer = inner(name, rrtype);
    cache.set(key, { until: now() + maxAge, answer });
    if (cache.size > maxEntries) cache.delete(cache.keys().next().value!);
    answer.catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOTFOUND' && err.code !== 'ENODATA' && cache.get(key)?.answer === answer) cache.delete(key);
    });
    return answer;
  };
}

export interface DkimSigningKey {
  selector: string;
  algorithm: 'rsa-sha256' | 'ed25519-sha256';
  /** PKCS#8 PEM. */
  privateKey: string;
}

export interface MailAuthOptions {
  /** Our authserv-id (RFC 8601 §2.5). */
  authservId: string;
  /** The d= of our signatures. */
  domain: string;
  /** Keys to sign the mail of trusted clients with; none: nothing is signed. */
  signingKeys: DkimSigningKey[];
  /** Check received mail and write Authentication-Results. */
  verify: boolean;
  /** Apply the sender domain's DMARC policy to mail from untrusted clients. */
  enforce: boolean;
  resolver: DNSResolver;
  /** RFC 7489 §6.6.4's sampling for pct (0 <= x < 1). */
  random?: () => number;
  /** The signature time (t=). */
  now?: () => Date;
  /** How SPF verdicts age (ms since the epoch); tests inject one. */
  clock?: () => number;
}

/** Who handed us the message (the SMTP session). */
export interface Client {
  ip: string;
  /** The EHLO/HELO argument. */
  helo: string;
  /** MAIL FROM, '' for the null sender. */
  mailFrom: string;
  /** Authenticated, or in the relay networks: one of our users, whose mail we sign. */
  trusted: boolean;
}

export type Disposition = { action: 'deliver' } | { action: 'quarantine' | 'reject'; reason: string };

export interface AuthOutcome {
  /** The message to store: our Authentication-Results and DKIM signatures first, the message without forged results after. */
  message: Buffer;
  disposition: Disposition;
  /** One line for the log: `dkim=pass dkim=pass spf=pass dmarc=pass`. */
  summary: string;
}

const AR = 'authentication-results';

/**
 * The message without the Authentication-Results fields that claim `authservId` (RFC 8601 §5:
 * a receiver removes them, they are forgeries or stale); other authserv-ids' results stay. The
 * authserv-id is the field's first token, comments and case aside (§2.2, §2.5).
 */
export function removeOwnResults(message: Buffer, authservId: string): Buffer {
  const end = headerEnd(message);
  const head = message.toString('latin1', 0, end);
  const fields = head.split(/\r\n(?![ \t])/);
  const keep = fields.filter((f) => {
    const colon = f.indexOf(':');
    if (colon < 0 || f.slice(0, colon).trim().toLowerCase() !== AR) return true;
    const id = f
      .slice(colon + 1)
      .replace(/\([^()]*\)/g, ' ')
      .trim()
      .split(/[\s;]/)[0];
    return id?.toLowerCase() !== authservId.toLowerCase();
  });
  if (keep.length === fields.length) return message;
  return Buffer.concat([Buffer.from(keep.join('\r\n'), 'latin1'), message.subarray(end)]);
}

/** Where the header section ends: the CRLF before the empty line (or the whole message, without body). */
function headerEnd(message: Buffer): number {
  if (message.subarray(0, 2).toString('latin1') === '\r\n') return 0;
  const i = message.indexOf('\r\n\r\n');
  return i < 0 ? message.length : i;
}

/** A DNS name as HELO gives it (not an address literal): RFC 7208 §2.3 checks only those. */
const isDomainName = (helo: string) => /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}\.?$/.test(helo);

/** The sender domain of a reply text: only a DNS name's characters (never raw client input, STYLE habit 8). */
const safeDomain = (d: string | undefined) => (d && /^[a-z0-9.-]{1,253}$/i.test(d) ? d : 'the sender domain');

export interface MailAuth {
  process(raw: Buffer, client: Client): Promise<AuthOutcome>;
}

export function createMailAuth(o: MailAuthOptions): MailAuth {
  const random = o.random ?? Math.random;
  const now = o.now ?? (() => new Date());
  const clock = o.clock ?? Date.now;

  /**
   * SPF's verdict for one client address, sender and HELO, reused as long as the DNS answers it
   * was made from are (DNS_CACHE_MS): it depends on nothing else (RFC 7208 §4.1: the IP, the domain,
   * the sender, and the DNS), and evaluating it again for every message of a burst was a third of
   * the checks' CPU. A temperror is not kept.
   */
  const spfSeen = new Map<string, { until: number; result: Promise<SPFResult> }>();
  function spfOnce(sender: string, ip: string, helo: string): Promise<SPFResult> {
    const key = `${ip}\0${sender.toLowerCase()}\0${helo.toLowerCase()}`;
    const hit = spfSeen.get(key);
    if (hit && hit.until > clock()) return hit.result;
    spfSeen.delete(key);
    const result = loadMailauth().then(({ spf }) => spf({ sender, ip, helo, mta: o.authservId, resolver: o.resolver }));
    spfSeen.set(key, { until: clock() + DNS_CACHE_MS, result });
    if (spfSeen.size > DNS_CACHE_ENTRIES) spfSeen.delete(spfSeen.keys().next().value!);
    result.then(
      (r) => r.status.result === 'temperror' && spfSeen.get(key)?.result === result && spfSeen.delete(key),
      () => spfSeen.get(key)?.result === result && spfSeen.delete(key),
    );
    return result;
  }

  /**
   * mailauth's `authenticate` without BIMI and ARC sealing, its steps in its order (DKIM, SPF, ARC,
   * DMARC from their results), so that SPF goes through spfOnce.
   */
  async function authenticate(message: Buffer, client: Client): Promise<AuthenticateResult> {
    const lib = await loadMailauth();
    const dkim = await lib.dkimVerify(message, { resolver: o.resolver, sender: client.mailFrom });
    // As authenticate: no HELO, the address; an address literal in brackets.
    const helo = client.helo || client.ip;
    const spf = await spfOnce(client.mailFrom, client.ip, isIP(helo) ? `[${helo}]` : helo);
    const arc = await lib.arc((dkim as unknown as { arc: Parameters<typeof lib.arc>[0] }).arc, { resolver: o.resolver });
    const dmarc = dkim.headerFrom
      ? await lib.dmarc({
          headerFrom: dkim.headerFrom,
          spfDomains: spf.status.result === 'pass' && spf.domain ? [spf.domain] : [],
          dkimDomains: dkim.results
            .filter((r) => r.status.result === 'pass')
            .map((r) => ({
              id: (r as { id?: string }).id,
              domain: r.signingDomain as string,
              aligned: (r.status as { aligned?: boolean }).aligned,
              underSized: (r.status as { underSized?: boolean }).underSized,
            })),
          arcResult: arc,
          resolver: o.resolver,
        })
      : false;
    return { dkim, spf, arc, dmarc, bimi: false, headers: '' };
  }

  async function sign(message: Buffer): Promise<string> {
    if (o.signingKeys.length === 0) return '';
    // One signature per key (signatureData); mailauth's types want a single key's fields besides.
    const { dkimSign } = await loadMailauth();
    const r = await dkimSign(message, {
      canonicalization: 'relaxed/relaxed',
      headerList: SIGNED_HEADERS.join(':'),
      signTime: now(),
      signatureData: o.signingKeys.map((k) => ({ signingDomain: o.domain, selector: k.selector, privateKey: k.privateKey, algorithm: k.algorithm })),
    } as unknown as Parameters<typeof dkimSign>[1]);
    if (r.errors.length > 0) throw new Error(`DKIM signing failed: ${r.errors.map((e) => e.message).join('; ')}`);
    return r.signatures;
  }

  /** The HELO identity's SPF (RFC 7208 §2.3), when MAIL FROM is not null (mailauth checks HELO then already). */
  async function heloSpf(client: Client): Promise<string | undefined> {
    if (!client.mailFrom || !isDomainName(client.helo)) return undefined;
    const r = await spfOnce(`postmaster@${client.helo}`, client.ip, client.helo);
    return `spf=${r.status.result} smtp.helo=${client.helo}`;
  }

  /**
   * Strict alignment (adkim=s, aspf=s: RFC 7489 §3.1.1-3.1.2) needs the authenticated domain to be
   * the From domain itself. mailauth 4.13 compares organizational domains even then (its
   * getAlignment falls through to the relaxed match), so a strict policy passes a subdomain's
   * mail. The strict identifiers are checked again here; relaxed ones keep mailauth's verdict.
   */
  function fixStrictAlignment(result: AuthenticateResult): void {
    const d = result.dmarc || undefined;
    if (d?.status.result !== 'pass' || (!d.alignment.dkim.strict && !d.alignment.spf.strict)) return;
    const from = (result.dkim.headerFrom[0] ?? '').split('@').pop()!.toLowerCase();
    const same = (domain: string | false | undefined) => typeof domain === 'string' && domain.toLowerCase() === from;
    const dkimOk = d.alignment.dkim.strict
      ? result.dkim.results.some((r) => r.status.result === 'pass' && same(r.signingDomain))
      : Boolean(d.alignment.dkim.result);
    const spfOk = d.alignment.spf.strict
      ? Boolean(result.spf && result.spf.status.result === 'pass' && same(result.spf.domain))
      : Boolean(d.alignment.spf.result);
    if (dkimOk || spfOk) return;
    d.status.result = 'fail';
    d.info = d.info.replace(/^dmarc=pass/, 'dmarc=fail');
  }

  function decide(result: AuthenticateResult, client: Client): Disposition {
    const d = result.dmarc;
    if (!o.enforce || client.trusted || !d || d.status.result !== 'fail') return { action: 'deliver' };
    let policy = d.policy as string;
    // RFC 7489 §6.6.4: with pct < 100, a message outside the sample gets the next milder policy.
    const pct = typeof d.pct === 'number' ? d.pct : 100;
    if (pct < 100 && random() * 100 >= pct) policy = policy === 'reject' ? 'quarantine' : 'none';
    if (policy !== 'reject' && policy !== 'quarantine') return { action: 'deliver' };
    const why = `${safeDomain(d.domain)} publishes DMARC p=${d.policy}${pct < 100 ? ` pct=${pct}` : ''} and this message has no aligned SPF or DKIM pass`;
    return { action: policy, reason: why };
  }

  return {
    async process(raw, client) {
      const crlf = new CrlfNormalizer().push(raw);
      const message = removeOwnResults(crlf, o.authservId);
      const signatures = client.trusted ? await sign(message) : '';
      const signed = signatures ? Buffer.concat([Buffer.from(signatures, 'latin1'), message]) : message;
      if (!o.verify) return { message: signed, disposition: { action: 'deliver' }, summary: signatures ? 'signed, not verified' : 'not verified' };
      const result = await authenticate(signed, client);
      fixStrictAlignment(result);
      const rows = [
        ...result.dkim.results.map((r) => r.info),
        ...(result.spf ? [result.spf.info] : []),
        ...[await heloSpf(client).catch(() => undefined)].filter((x): x is string => x !== undefined),
        // mailauth writes ARC only when a chain is present; "none" is a result too (RFC 8617 §5.2).
        (result.arc || undefined)?.info || `arc=${(result.arc || undefined)?.status.result || 'none'}`,
        ...(result.dmarc ? [result.dmarc.info] : []),
      ].filter(Boolean);
      const header = `Authentication-Results: ${o.authservId};\r\n ${rows.map((r) => r.replace(/\r?\n/g, '\r\n')).join(';\r\n ')}\r\n`;
      const summary = rows.map((r) => r.split(/\s/)[0]).join(' ');
      return { message: Buffer.concat([Buffer.from(header, 'utf8'), signed]), disposition: decide(result, client), summary };
    },
  };
}
