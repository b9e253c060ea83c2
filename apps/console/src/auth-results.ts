// The verdicts of our mail server's Authentication-Results header (RFC 8601), as the console
// shows them: each method's result (SPF per identity, DKIM per signature with its domain and
// selector, ARC, DMARC with its policy), the reason of a failure, and whether anything failed
// (the search's `auth:fail`). Only the header with our authserv-id counts: any other was written
// by someone else, and one that claimed ours was removed on receipt (RFC 8601 §5, apps/mail).
// No imports but types, so the browser bundle may use `failed` (the message view's chips).
import type { AuthResults, AuthVerdict, DnsQuestion } from './api/schemas.ts';

export type { AuthResults, AuthVerdict };

/**
 * The record a verdict was read from: DKIM's key at <selector>._domainkey.<d> (RFC 6376 §3.6.2.1),
 * SPF's record at the identity's domain (MAIL FROM's, or HELO's: RFC 7208 §4.1), DMARC's at
 * _dmarc.<From domain> (RFC 7489 §6.1). All TXT. The first query of each evaluation; an SPF
 * include or a DMARC organizational-domain fallback asked more.
 */
export function questionsOf(method: string, props: Record<string, string>): DnsQuestion[] {
  const txt = (name: string | undefined) => (name ? [{ name: name.replace(/\.$/, '').toLowerCase(), type: 'TXT' }] : []);
  // An address's domain; a property that is a domain already stays; the null path (<>) has none.
  const domainOf = (addr: string | undefined) =>
    addr?.includes('@') ? addr.slice(addr.lastIndexOf('@') + 1) : addr && /^[^<>@\s]+$/.test(addr) ? addr : undefined;
  if (method === 'dkim') {
    const d = props['header.d'] ?? domainOf(props['header.i']);
    return d && props['header.s'] ? txt(`${props['header.s']}._domainkey.${d}`) : [];
  }
  if (method === 'spf') {
    const helo = props['smtp.helo'];
    // An address literal HELO ([192.0.2.1]) has no record to ask (RFC 7208 §2.3).
    return txt(domainOf(props['smtp.mailfrom']) || (helo && !helo.startsWith('[') ? helo : undefined));
  }
  if (method === 'dmarc') return props['header.from'] ? txt(`_dmarc.${props['header.from']}`) : [];
  return [];
}

/**
 * The results a message fails with. DKIM's neutral too: mailauth (as Gmail) says
 * `neutral (body hash did not verify)`, `neutral (no key)`, `neutral (expired)` for signatures
 * RFC 6376 calls PERMFAIL. SPF's neutral is the domain saying nothing (RFC 7208 §8.2): not a failure.
 */
export function failed(v: Pick<AuthVerdict, 'method' | 'result'>): boolean {
  if (['fail', 'softfail', 'permerror', 'temperror'].includes(v.result)) return true;
  return v.method === 'dkim' && (v.result === 'neutral' || v.result === 'policy');
}

/** Splits on `sep` outside (comments) and "quoted strings" (RFC 8601 §2.2 uses RFC 5322's CFWS). */
function split(text: string, sep: RegExp): Array<{ text: string; comments: string[] }> {
  const out: Array<{ text: string; comments: string[] }> = [];
  let cur = '';
  let comments: string[] = [];
  let depth = 0;
  let comment = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (depth > 0) {
      if (c === '\\') comment += text[++i] ?? '';
      else if (c === '(') {
        depth += 1;
        comment += c;
      } else if (c === ')') {
        depth -= 1;
        if (depth === 0) {
          comments.push(comment.trim());
          comment = '';
          cur += ' ';
        } else comment += c;
      } else comment += c;
      continue;
    }
    if (quoted) {
      // Quoted strings stay quoted (a value may hold spaces or ";"); unquote() takes them off.
      if (c === '\\') cur += c + (text[++i] ?? '');
      else {
        if (c === '"') quoted = false;
        cur += c;
      }
      continue;
    }
    if (c === '"') {
      quoted = true;
      cur += c;
    } else if (c === '(') depth = 1;
    else if (sep.test(c)) {
      out.push({ text: cur.trim(), comments });
      cur = '';
      comments = [];
    } else cur += c;
  }
  out.push({ text: cur.trim(), comments });
  return out;
}

/** A value without its quotes and quoted-pairs (RFC 5322 §3.2.4). */
const unquote = (v: string) => (v.startsWith('"') ? v.slice(1, -1).replace(/\\(.)/g, '$1') : v);

/** Parses one Authentication-Results field value (unfolded). Unparseable result entries are skipped. */
export function parseAuthResults(value: string): { authservId: string; verdicts: AuthVerdict[] } {
  const [head, ...rest] = split(value, /;/);
  const authservId = (head?.text.split(/\s+/)[0] ?? '').toLowerCase();
  const verdicts: AuthVerdict[] = [];
  for (const part of rest) {
    const m = /^([a-z0-9_-]+)(?:\/\d+)?\s*=\s*([a-z]+)\s*(.*)$/i.exec(part.text);
    if (!m) continue;
    const props: Record<string, string> = {};
    let reason = part.comments[0];
    for (const pv of m[3]!.matchAll(/([a-z0-9_.-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s"]+)/gi)) {
      const key = pv[1]!.toLowerCase();
      const value = unquote(pv[2]!);
      if (key === 'reason') reason = value;
      else props[key] = value;
    }
    const method = m[1]!.toLowerCase();
    verdicts.push({ method, result: m[2]!.toLowerCase(), ...(reason ? { reason } : {}), props, dns: questionsOf(method, props) });
  }
  return { authservId, verdicts };
}

/** Our results among a message's header fields (the first with our authserv-id), or null. */
export function ourAuthResults(headers: ReadonlyArray<{ name: string; value: string }>, authservId: string): AuthResults | null {
  for (const h of headers) {
    if (h.name.toLowerCase() !== 'authentication-results') continue;
    const r = parseAuthResults(h.value);
    if (r.authservId !== authservId.toLowerCase()) continue;
    return { ...r, fail: r.verdicts.some(failed) };
  }
  return null;
}

/** The one-line form the mailbox index keeps: `dkim=pass spf=pass dmarc=pass` ('' without our results). */
export function authSummary(r: AuthResults | null): string {
  return r ? r.verdicts.map((v) => `${v.method}=${v.result}`).join(' ') : '';
}

/** Whether a one-line summary (authSummary) holds a failure. */
export function summaryFails(summary: string): boolean {
  return summary.split(' ').some((mr) => {
    const eq = mr.indexOf('=');
    return eq > 0 && failed({ method: mr.slice(0, eq), result: mr.slice(eq + 1) });
  });
}
