// `sstt-lab compare`: the application dialogues of two captures of the report's replay (ours and
// the reference lab's) put side by side, step by step: DNS (rcode, flags, counts, every record of
// every section), SMTP (every reply code and text, EHLO keywords), POP3 (replies, CAPA), HTTP
// (status and header names of web_sstt's replies), TLS (version, the CertificateRequest's CA
// names, the chain's length), IKE (exchange types, the IKE_SA_INIT proposal), DKIM (the
// signatures of the message servidor relayed to um.es's MX: d=, s=, a=, c= of each, by selector;
// h=, bh=, b= and t= are each signer's own and left out). Values meant to
// differ are rewritten by the rules of compare-rules.ts first; what is left is a difference.
import type { Scenario } from '@sstt/scenario';
import { UNIVERSITY_DOMAIN } from '@sstt/scenario';
import { normalise } from './compare-rules.ts';
import { frames, popLoginOf, reportSmtpStream, tcpLines, values } from './grade.ts';
import { relayedMessage } from './relayed.ts';

export const COMPARE_STEPS = ['dns', 'smtp', 'pop3', 'http', 'tls', 'ike', 'dkim'] as const;
export type CompareStep = (typeof COMPARE_STEPS)[number];

export interface Side {
  capture: string;
  s: Scenario;
  client: string;
  server: string;
}

export interface Difference {
  step: CompareStep;
  /** The line of each side where they part (after the rules); '' where one side has no more. */
  ours: string;
  reference: string;
}

/** The selector of a signature's line. */
const sel = (line: string) => / s=(\S*)/.exec(line)?.[1] ?? '';

/** One capture's dialogues, as lines, per step. */
export async function dialogues(o: Side): Promise<Record<CompareStep, string[]>> {
  const { capture, s, client: C, server: S } = o;
  const between = `((ip.src==${C} && ip.dst==${S}) || (ip.src==${S} && ip.dst==${C}))`;
  const www = `www.${s.domain}`;
  const [u1, u2] = [s.users[0]!, s.users[1] ?? s.users[0]!];

  // DNS: the first reply to each of the report's questions (RFC 1035 §4.1).
  const dns: string[] = [];
  for (const [name, type] of [
    [www, 1],
    [www, 28],
    [`www.${UNIVERSITY_DOMAIN}`, 1],
  ] as const) {
    const r = (
      await frames(capture, `dns.flags.response==1 && dns.qry.name=="${name}" && dns.qry.type==${type} && ip.src==${S} && ip.dst==${C}`, [
        'frame.number',
        'dns.flags.rcode',
        'dns.flags.authoritative',
        'dns.flags.recavail',
        'dns.count.answers',
        'dns.count.auth_rr',
        'dns.count.add_rr',
        'dns.resp.name',
        'dns.resp.type',
        'dns.resp.ttl',
      ])
    )[0];
    if (!r) {
      dns.push(`${name} ${type}: no reply`);
      continue;
    }
    dns.push(`${name} ${type}: rcode ${r[1]} aa ${r[2]} ra ${r[3]} counts ${r[4]}/${r[5]}/${r[6]}`);
    const [names, types, ttls] = [values(r[7]), values(r[8]), values(r[9])];
    for (const [i, n] of names.entries()) dns.push(`  ${n} ${types[i]} ttl ${ttls[i] ?? ''}`);
  }

  // SMTP: nombre1's conversation, POP3: nombre2's fullest session; every line both sent, as the
  // TCP payload carried it (the message itself left out: its text is the replay's).
  const smtpRows = await frames(capture, `smtp && ${between}`, ['frame.number', 'tcp.stream', 'smtp.req.command', 'smtp.req.parameter']);
  const smtpStream = reportSmtpStream(smtpRows, u1.email, u2.email);
  const smtp = smtpStream === undefined ? [] : await conversation(capture, smtpStream, S, 'smtp');

  const popRows = await frames(capture, `pop && ${between}`, ['frame.number', 'tcp.stream', 'pop.request.command', 'pop.request.parameter']);
  const sessions = new Map<string, string[][]>();
  for (const r of popRows) sessions.set(r[1]!, [...(sessions.get(r[1]!) ?? []), r]);
  const mine = [...sessions.values()].filter((rows) =>
    popLoginOf(
      rows.map((r) => [r[2], r[3]].filter(Boolean).join(' ')),
      u2.name,
    ),
  );
  const best = mine.sort((a, b) => b.length - a.length)[0];
  const pop3 = best === undefined ? [] : await conversation(capture, best[0]![1]!, S, 'pop3');

  // HTTP on web_sstt's port: each response's status and header names (values carry dates).
  const httpRows = await frames(capture, `http.response && ip.src==${S} && ip.dst==${C} && tcp.srcport==${s.listen.ports.http}`, [
    'frame.number',
    'http.response.code',
    'http.response.line',
  ]);
  const http = httpRows.map(
    (r) =>
      `S: ${r[1]} ${values(r[2])
        .map((l) => l.split(':')[0])
        .join(' ')}`,
  );

  // TLS: the first handshake on the HTTPS port.
  const hello = (
    await frames(capture, `tls.handshake.type==2 && ip.src==${S} && tcp.srcport==${s.listen.ports.https}`, [
      'frame.number',
      'tcp.stream',
      'tls.handshake.version',
    ])
  )[0];
  const tls: string[] = [];
  if (hello) {
    tls.push(`ServerHello version ${hello[2]}`);
    const inStream = `tcp.stream==${hello[1]} && ip.src==${S}`;
    const req = (
      await frames(capture, `tls.handshake.type==13 && ${inStream}`, [
        'frame.number',
        'tls.handshake.dnames_len',
        'x509sat.uTF8String',
        'x509sat.printableString',
      ])
    )[0];
    tls.push(req ? `CertificateRequest CA names ${[...values(req[2]), ...values(req[3])].join(', ')}` : 'no CertificateRequest');
    const cert = (await frames(capture, `tls.handshake.type==11 && ${inStream}`, ['frame.number', 'tls.handshake.certificate_length']))[0];
    tls.push(`Certificate chain of ${cert ? values(cert[1]).length : 0}`);
  } else tls.push('no TLS handshake');

  // IKEv2: exchange types in order, and the proposal of IKE_SA_INIT (RFC 7296 §3.3).
  const TRANSFORM_IDS = ['isakmp.tf.id.encr', 'isakmp.tf.id.prf', 'isakmp.tf.id.integ', 'isakmp.tf.id.dh'];
  const ikeRows = await frames(capture, `isakmp && ${between}`, ['frame.number', 'isakmp.exchangetype', ...TRANSFORM_IDS]);
  const ike = ikeRows.map((r) => {
    const ids = TRANSFORM_IDS.map((f, i) => `${f.split('.').at(-1)} ${values(r[2 + i]).join(',')}`);
    return `${r[1]}${r[1] === '34' ? ` ${ids.join('; ')}` : ''}`;
  });
  // Fragmented and retransmitted messages repeat: one line per distinct message kind in order.
  const ikeOnce = ike.filter((l, i) => l !== ike[i - 1]);

  // DKIM: how servidor signed the message it relayed outside (servidor -> the MX at the gateway).
  // The signed field list (h=) differs by design (each signer's default, both RFC 6376 §5.4.1's
  // recommendation), and bh=, b=, t= by the message and the moment: only what both must agree on.
  const relayed = await relayedMessage(capture, S, s.network.gateway, UNIVERSITY_DOMAIN);
  const dkim = relayed
    ? relayed.signatures.map((x) => `d=${x.d} s=${x.s} a=${x.a} c=${x.c}`).sort((x, y) => sel(x).localeCompare(sel(y)))
    : [`no message relayed to ${UNIVERSITY_DOMAIN}`];

  return { dns, smtp, pop3, http, tls, ike: ikeOnce, dkim };
}

/**
 * The lines of one TCP conversation in order (client C:, server S:), without the message bodies:
 * SMTP's DATA (from the 354 to the lone '.') and POP3's RETR text (after '+OK n octets' to the lone '.').
 */
async function conversation(capture: string, stream: string, server: string, kind: 'smtp' | 'pop3'): Promise<string[]> {
  const out: string[] = [];
  let body = false;
  for (const { who, line } of await tcpLines(capture, stream, server)) {
    if (body) {
      if (line === '.') body = false;
      continue;
    }
    out.push(`${who}: ${line}`);
    if (kind === 'smtp' && who === 'S' && /^354 /.test(line)) body = true;
    if (kind === 'pop3' && who === 'S' && /^\+OK \d+ octets/.test(line)) body = true;
  }
  return out;
}

/** The differences left after the rules, one per step at most (the first line where they part). */
export function differences(ours: Record<CompareStep, string[]>, reference: Record<CompareStep, string[]>): Difference[] {
  const out: Difference[] = [];
  for (const step of COMPARE_STEPS) {
    const a = ours[step].map((l) => normalise(step, l)).filter(Boolean);
    const b = reference[step].map((l) => normalise(step, l)).filter(Boolean);
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      if (a[i] !== b[i]) {
        out.push({ step, ours: a[i] ?? '', reference: b[i] ?? '' });
        break;
      }
    }
  }
  return out;
}

export function renderDifferences(diffs: Difference[]): string {
  if (diffs.length === 0) return 'no difference left after the rules of compare-rules.ts\n';
  const w = Math.max(...diffs.map((d) => d.ours.length), 4);
  const lines = [
    `${'STEP'.padEnd(6)}${'OURS'.padEnd(w + 2)}REFERENCE`,
    ...diffs.map((d) => `${d.step.padEnd(6)}${(d.ours || '(nothing)').padEnd(w + 2)}${d.reference || '(nothing)'}`),
  ];
  lines.push(diffs.length === 1 ? '1 step differs' : `${diffs.length} steps differ`);
  return `${lines.join('\n')}\n`;
}
