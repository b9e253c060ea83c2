// The sessions timeline: the journal's events (packages/events) gathered per session, the way
// the lab report's traces show a dialogue (C: / S: lines, TLS as an event). Bounded: the
// newest MAX_SESSIONS sessions, each with at most MAX_LINES lines, MAX_TOTAL_LINES in all. DNS exchanges are decoded
// (dns-packet) only when shown. Secrets (passwords, AUTH blobs) are masked unless revealed.
import { EventEmitter } from 'node:events';
import dnsPacket from 'dns-packet';
import type { JournalEvent } from '@sstt/events';
import type { Line, SessionSummary, SessionTls } from './api/schemas.ts';

export type { Line, SessionSummary };

export const MAX_SESSIONS = 2000;
/** Lines kept over all sessions (the oldest sessions go first): the timeline's memory stays bounded. */
export const MAX_TOTAL_LINES = 60_000;
export const MAX_LINES = 400;

export interface Session {
  id: string;
  protocol: string;
  client: string;
  local: string;
  start: number;
  end: number | null;
  lines: Line[];
  /** Lines not kept past MAX_LINES. */
  dropped: number;
  tls: SessionTls;
  /** SMTP: the ids of the messages accepted in this session (`250 OK id=...`). */
  smtpIds: string[];
  /** The user who logged in (AUTH, USER), when there was one. */
  user?: string;
  /** DNS: the message as sent (base64), decoded on demand. */
  dns?: { tr: string; r?: string; q?: string };
}

const MASK = '••••••••';

/**
 * Who logs in, from a client line: USER (RFC 1939 §7), AUTH PLAIN's authentication identity
 * (RFC 4616 §2, inline or after the "+"/334 challenge), AUTH LOGIN's first answer.
 */
export function loginName(line: string, prevServer: string, prevClient: string): string | undefined {
  const user = /^USER\s+(\S+)/i.exec(line)?.[1];
  if (user) return user;
  const b64 = (v: string) => Buffer.from(v, 'base64').toString('utf8');
  const inline = /^AUTH\s+PLAIN\s+(\S+)/i.exec(line)?.[1];
  const plain = inline ?? (/^AUTH\s+PLAIN\s*$/i.test(prevClient) && /^(\+|334)/.test(prevServer) ? line.trim() : undefined);
  if (plain) return b64(plain).split('\0')[1] || undefined;
  if (/^AUTH\s+LOGIN\s*$/i.test(prevClient) && /^(\+|334) /.test(prevServer)) return b64(line.trim()) || undefined;
  const loginInline = /^AUTH\s+LOGIN\s+(\S+)/i.exec(line)?.[1];
  return loginInline ? b64(loginInline) || undefined : undefined;
}

/** A secret line with the secret part masked: the command word stays visible. */
export function maskLine(text: string): string {
  const m = /^(AUTH\s+\S+\s+|PASS\s+|APOP\s+\S+\s+)/i.exec(text);
  return m ? m[1] + MASK : MASK;
}

export function decodeDns(b64: string): { text: string[]; rcode: string; question: string } {
  try {
    const p = dnsPacket.decode(Buffer.from(b64, 'base64'));
    const rr = (r: dnsPacket.Answer) => `${r.name}.\t${'ttl' in r ? (r.ttl ?? '') : ''}\t${'class' in r ? r.class : 'IN'}\t${r.type}\t${formatData(r)}`;
    const q = p.questions?.[0];
    const rcode = p.type === 'response' ? ((p as { rcode?: string }).rcode ?? 'NOERROR') : '';
    const text = [
      `;; ${p.type === 'response' ? 'response' : 'query'} id ${p.id ?? 0}${rcode ? `, status: ${rcode}` : ''}, flags: ${flagText(p)}`,
      ';; QUESTION SECTION:',
      ...(p.questions ?? []).map((x) => `;${x.name}.\t\t${x.class}\t${x.type}`),
      ...section('ANSWER', p.answers, rr),
      ...section('AUTHORITY', p.authorities, rr),
      ...section(
        'ADDITIONAL',
        (p.additionals ?? []).filter((r) => r.type !== 'OPT'),
        rr,
      ),
    ];
    return { text, rcode, question: q ? `${q.name} ${q.type}` : '(no question)' };
  } catch (err) {
    return { text: [`;; undecodable message: ${(err as Error).message}`], rcode: 'FORMERR', question: '(undecodable)' };
  }
}

function section(name: string, rrs: dnsPacket.Answer[] | undefined, fmt: (r: dnsPacket.Answer) => string): string[] {
  return rrs && rrs.length > 0 ? [`;; ${name} SECTION:`, ...rrs.map(fmt)] : [];
}

function flagText(packet: dnsPacket.Packet): string {
  const p = packet as dnsPacket.Packet & Record<'flag_aa' | 'flag_tc' | 'flag_rd' | 'flag_ra', boolean | undefined>;
  const f: string[] = [];
  if (p.type === 'response') f.push('qr');
  if (p.flag_aa) f.push('aa');
  if (p.flag_tc) f.push('tc');
  if (p.flag_rd) f.push('rd');
  if (p.flag_ra) f.push('ra');
  return f.join(' ');
}

function formatData(r: dnsPacket.Answer): string {
  const d = (r as { data?: unknown }).data;
  if (d === undefined || d === null) return '';
  if (typeof d === 'string') return r.type === 'A' || r.type === 'AAAA' ? d : `${d}.`;
  if (Buffer.isBuffer(d)) return d.toString('hex');
  if (Array.isArray(d)) return d.map((x) => JSON.stringify(Buffer.isBuffer(x) ? x.toString() : x)).join(' ');
  const o = d as Record<string, unknown>;
  switch (r.type) {
    case 'MX':
      return `${o.preference} ${o.exchange}.`;
    case 'SOA':
      return `${o.mname}. ${o.rname}. ${o.serial} ${o.refresh} ${o.retry} ${o.expire} ${o.minimum}`;
    case 'SRV':
      return `${o.priority} ${o.weight} ${o.port} ${o.target}.`;
    default:
      return JSON.stringify(o);
  }
}

export class SessionStore extends EventEmitter<{ session: [SessionSummary] }> {
  private readonly sessions = new Map<string, Session>();
  private totalLines = 0;
  lost = 0;

  constructor() {
    super();
    this.setMaxListeners(0);
  }

  add(e: JournalEvent): void {
    if (e.k === 'lost') {
      this.lost += e.n ?? 0;
      return;
    }
    let s = this.sessions.get(e.s);
    if (!s) {
      s = { id: e.s, protocol: e.p, client: e.c ?? '', local: e.l ?? '', start: e.t, end: null, lines: [], dropped: 0, tls: null, smtpIds: [] };
      this.sessions.set(e.s, s);
      if (this.sessions.size > MAX_SESSIONS) this.evictOldest();
    }
    switch (e.k) {
      case 'open':
        s.client = e.c ?? '';
        s.local = e.l ?? '';
        s.start = e.t;
        break;
      case 'c':
      case 's': {
        const x = e.x ?? '';
        if (e.k === 's') {
          const id = /^250 OK id=(\S+)/.exec(x)?.[1];
          if (id) s.smtpIds.push(id);
        } else if (!s.user) {
          s.user = loginName(x, s.lines.at(-1)?.text ?? '', s.lines.at(-2)?.text ?? '');
          if (!s.user) delete s.user;
        }
        this.push(s, { t: e.t, dir: e.k, text: x, ...(e.secret ? { secret: true } : {}) });
        break;
      }
      case 'tls':
        s.tls = { version: e.v ?? '', cipher: e.cipher ?? '', ...(e.peer ? { peer: e.peer } : {}) };
        this.push(s, { t: e.t, dir: 'tls', text: `TLS ${e.v} ${e.cipher}${e.peer ? `, client certificate ${e.peer}` : ''}` });
        break;
      case 'close':
        s.end = e.t;
        break;
      case 'dns':
        s.dns = { tr: e.tr ?? 'udp', ...(e.r ? { r: String(e.r) } : {}), ...(e.q ? { q: String(e.q) } : {}) };
        s.end = e.t;
        break;
    }
    this.emit('session', this.summary(s));
  }

  private evictOldest(): void {
    const [id, old] = this.sessions.entries().next().value!;
    this.sessions.delete(id);
    this.totalLines -= old.lines.length;
  }

  private push(s: Session, line: Line): void {
    if (s.lines.length >= MAX_LINES) {
      s.dropped += 1;
      return;
    }
    s.lines.push(line);
    this.totalLines += 1;
    while (this.totalLines > MAX_TOTAL_LINES && this.sessions.size > 1 && this.sessions.keys().next().value !== s.id) this.evictOldest();
  }

  summary(s: Session): SessionSummary {
    let summary = '';
    let rcode: string | undefined;
    if (s.dns) {
      const d = decodeDns(s.dns.r ?? s.dns.q ?? '');
      summary = `${d.question} → ${d.rcode || 'no answer'}`;
      rcode = d.rcode;
    } else {
      const first = s.lines.find((l) => l.dir === 'c');
      // The first line of it: an HTTP request carries its header fields below the request line.
      summary = (first ? (first.secret ? maskLine(first.text) : first.text) : (s.lines[0]?.text ?? '')).split('\n')[0]!;
    }
    return {
      id: s.id,
      protocol: s.protocol,
      client: s.client,
      start: s.start,
      end: s.end,
      lines: s.lines.length + s.dropped,
      summary,
      tls: s.tls,
      smtpIds: s.smtpIds,
      ...(s.user ? { user: s.user } : {}),
      ...(rcode !== undefined ? { rcode } : {}),
    };
  }

  /**
   * `question`: only DNS exchanges asking this name (case aside, no final dot) and type;
   * `before`: only sessions that started before this time (ms).
   */
  list(filter: {
    protocol?: string[];
    client?: string;
    smtpId?: string;
    limit: number;
    before?: number;
    question?: { name: string; type: string };
  }): SessionSummary[] {
    const out: SessionSummary[] = [];
    const all = [...this.sessions.values()];
    const asked = filter.question && `${filter.question.name.replace(/\.$/, '')} ${filter.question.type}`.toLowerCase();
    for (let i = all.length - 1; i >= 0 && out.length < filter.limit; i--) {
      const s = all[i]!;
      if (filter.protocol && !filter.protocol.includes(s.protocol)) continue;
      if (filter.client && !s.client.startsWith(filter.client) && !s.client.startsWith(`[${filter.client}`)) continue;
      if (filter.smtpId && !s.smtpIds.includes(filter.smtpId)) continue;
      if (filter.before !== undefined && s.start >= filter.before) continue;
      if (asked && (!s.dns || decodeDns(s.dns.q ?? s.dns.r ?? '').question.toLowerCase() !== asked)) continue;
      out.push(this.summary(s));
    }
    return out;
  }

  /** When our SMTP server accepted message `smtpId` (its "250 OK id=" line), if the journal still has it. */
  acceptedAt(smtpId: string): number | undefined {
    for (const s of this.sessions.values()) {
      if (!s.smtpIds.includes(smtpId)) continue;
      const line = s.lines.find((l) => l.dir === 's' && l.text.startsWith(`250 OK id=${smtpId}`));
      return line?.t ?? s.end ?? undefined;
    }
    return undefined;
  }

  get(id: string, reveal: boolean): (Session & { dnsText?: string[] }) | undefined {
    const s = this.sessions.get(id);
    if (!s) return undefined;
    const lines = s.lines.map((l) => (l.secret && !reveal ? { ...l, text: maskLine(l.text) } : l));
    return { ...s, lines, ...(s.dns ? { dnsText: decodeDns(s.dns.r ?? s.dns.q ?? '').text } : {}) };
  }
}
