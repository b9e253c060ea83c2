// The capture side of `sstt-lab check`: every step of the lab report looked up in a capture with
// tshark, for one student's domain sstt<ID>.org and users nombre1_<ID>, nombre2_<ID>, between the
// client and the server addresses. The live check (check.ts) adds what its own replay saw; with
// `--pcap` this alone grades a capture made elsewhere (the course's VirtualBox machines), without
// replaying. ESP is read with Wireshark's null-cipher heuristic, as the report's Wireshark did.
import fs from 'node:fs';
import { type Scenario, UNIVERSITY_DOMAIN } from '@sstt/scenario';
import { requireTool, run } from '@sstt/host';

/** One step of the check: what it proves, whether it holds, the frames that prove it, and why not. */
export interface Step {
  /** Stable key of the step (the same in every format and in both kinds of check). */
  key: StepKey;
  name: string;
  ok: boolean;
  /** Frame numbers of the capture that prove the step (the first few). */
  frames: number[];
  evidence: string;
  /** Why the step fails (absent when it holds). */
  reason?: string;
  /** The console's session of this exchange (live check on our lab: the servers' journal), `#/sessions/<id>`. */
  session?: string;
}

export const STEP_KEYS = ['dns-a', 'dns-aaaa', 'dns-forward', 'smtp', 'relay', 'pop3', 'http', 'https', 'ike', 'esp', 'clear'] as const;
export type StepKey = (typeof STEP_KEYS)[number];

export interface GradeOptions {
  capture: string;
  s: Scenario;
  client: string;
  server: string;
  /** Judge the IPsec steps (IKE, ESP both ways, nothing in clear); the report's lab has IPsec. */
  ipsec: boolean;
}

/** What tshark must be told to read the report's captures: ESP with the null cipher decoded. */
export const TSHARK_READ = ['-n', '-o', 'esp.enable_null_encryption_decode_heuristic:TRUE'];

/** Separates the values of a field that occurs more than once in a frame (inner and outer IP). */
const AGG = '\u001f';

/** tshark reading the capture with a display filter; its standard output. */
async function tshark(capture: string, filter: string, extra: string[]): Promise<string> {
  const r = await run(requireTool('tshark'), ['-r', capture, ...TSHARK_READ, '-Y', filter, ...extra], { timeoutMs: 60_000 });
  // A capture cut in the middle of a frame (a student's truncated file) is read up to the cut:
  // tshark says so on stderr and exits 2, and what it read is still the evidence.
  if (r.code !== 0 && !/appears to have been cut short in the middle of a packet/.test(r.stderr)) {
    throw new Error(`tshark -r ${capture} -Y '${filter}': ${r.stderr.trim()}`);
  }
  return r.stdout;
}

/** Rows of tshark fields for the frames of the capture matching a display filter. */
export async function frames(capture: string, filter: string, fields: string[] = ['frame.number']): Promise<string[][]> {
  const out = await tshark(capture, filter, ['-T', 'fields', '-E', 'separator=/t', '-E', `aggregator=${AGG}`, ...fields.flatMap((f) => ['-e', f])]);
  return out
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split('\t'));
}

/** The values of one field of a row (a field that occurs several times gives several). */
export const values = (cell: string | undefined) => (cell ? cell.split(AGG) : []);

export const frameList = (rows: string[][], max = 6) =>
  rows.length === 0
    ? 'no frame'
    : `frame${rows.length > 1 ? 's' : ''} ${rows
        .slice(0, max)
        .map((r) => r[0])
        .join(', ')}${rows.length > max ? ', ...' : ''}`;

const numbers = (rows: string[][], max = 12) => rows.slice(0, max).map((r) => Number(r[0]));

/**
 * The student domains (sstt<ID>.org) a capture names, read from its bytes: with the null cipher
 * every name the services exchanged is in clear, inside ESP too. A capture of someone else's lab
 * names another ID: the reason of a failing step says which.
 */
export function domainsIn(capture: string): string[] {
  const text = fs.readFileSync(capture).toString('latin1');
  const seen = new Map<string, number>();
  for (const m of text.matchAll(/sstt(\d{4})\.org/gi)) seen.set(m[0].toLowerCase(), (seen.get(m[0].toLowerCase()) ?? 0) + 1);
  return [...seen.entries()].sort((a, b) => b[1] - a[1]).map(([d]) => d);
}

/**
 * The TCP stream of the report's SMTP conversation among rows of [frame, stream, command,
 * parameter]: the one whose MAIL FROM is `from` and whose RCPT TO is `to` (the replay sends
 * another message from the same user, relayed outside, on a stream of its own).
 */
export function reportSmtpStream(rows: string[][], from: string, to: string): string | undefined {
  const has = (stream: string | undefined, command: string, address: string) =>
    rows.some((r) => r[1] === stream && r[2] === command && (r[3] ?? '').toLowerCase().includes(`<${address.toLowerCase()}>`));
  return rows.find((r) => r[2] === 'MAIL' && has(r[1], 'MAIL', from) && has(r[1], 'RCPT', to))?.[1];
}

/**
 * The lines of one TCP stream in order, each with its side (S: from `server`, C: the other) and
 * its first frame, from the segments' payloads (a line may span segments).
 */
export async function tcpLines(capture: string, stream: string, server: string): Promise<Array<{ who: 'C' | 'S'; line: string; frame: number }>> {
  const rows = await frames(capture, `tcp.stream==${stream} && tcp.len>0`, ['frame.number', 'ip.src', 'tcp.payload']);
  const out: Array<{ who: 'C' | 'S'; line: string; frame: number }> = [];
  const partial = { C: { text: '', frame: 0 }, S: { text: '', frame: 0 } };
  for (const r of rows) {
    const who = values(r[1])[0] === server ? 'S' : 'C';
    const p = partial[who];
    if (p.text === '') p.frame = Number(r[0]);
    const lines = (p.text + Buffer.from((values(r[2])[0] ?? '').replace(/:/g, ''), 'hex').toString('latin1')).split('\r\n');
    p.text = lines.pop() ?? '';
    for (const line of lines) {
      out.push({ who, line, frame: p.frame });
      p.frame = Number(r[0]);
    }
  }
  return out;
}

/** The AUTH PLAIN blob (RFC 4616: authzid NUL authcid NUL passwd) or USER argument of a POP3 login names `user`. */
export function popLoginOf(lines: string[], user: string): boolean {
  return lines.some((l) => {
    if (new RegExp(`^USER ${user}$`, 'i').test(l)) return true;
    const b64 = /^[A-Za-z0-9+/=]{8,}$/.test(l) ? Buffer.from(l, 'base64').toString('latin1') : '';
    return b64.split('\0')[1] === user;
  });
}

/** The capture steps; the live check judges its own replay on top of these (check.ts). */
export async function gradeCapture(o: GradeOptions): Promise<Step[]> {
  const { capture, s, client: C, server: S } = o;
  const steps: Step[] = [];
  const between = `((ip.src==${C} && ip.dst==${S}) || (ip.src==${S} && ip.dst==${C}))`;
  const www = `www.${s.domain}`;
  const dnsName = s.names.find((n) => n.label === 'dns')!.fqdn;
  const outside = `www.${UNIVERSITY_DOMAIN}`;
  const [u1, u2] = [s.users[0]!, s.users[1] ?? s.users[0]!];
  const add = (key: StepKey, name: string, ok: boolean, rows: string[][], evidence: string, reason: string) =>
    steps.push({ key, name, ok, frames: numbers(rows), evidence, ...(ok ? {} : { reason }) });

  // DNS: the replies servidor sent cliente (RFC 1035 §4.1: answer, authority, additional).
  const a = await frames(capture, `dns.flags.response==1 && dns.qry.name=="${www}" && dns.qry.type==1 && ip.src==${S} && ip.dst==${C}`, [
    'frame.number',
    'dns.a',
    'dns.ns',
  ]);
  const aFull = a.filter((r) => values(r[1]).filter((x) => x === S).length >= 2 && values(r[2]).includes(dnsName));
  add(
    'dns-a',
    `DNS ${www} A: answer, NS in authority, glue in additional`,
    aFull.length > 0,
    aFull,
    frameList(aFull),
    a.length === 0 ? `no DNS reply for ${www} A from ${S} to ${C}` : `the replies (${frameList(a)}) lack the A ${S}, the NS ${dnsName} or its glue`,
  );

  const aaaa = await frames(
    capture,
    `dns.flags.response==1 && dns.qry.name=="${www}" && dns.qry.type==28 && dns.flags.rcode==0 && dns.count.answers==0 && dns.soa.mname && ip.src==${S} && ip.dst==${C}`,
  );
  add(
    'dns-aaaa',
    `DNS ${www} AAAA: NODATA with the SOA`,
    aaaa.length > 0,
    aaaa,
    frameList(aaaa),
    `no NOERROR reply for ${www} AAAA without answers and with the SOA (RFC 2308 §2.2)`,
  );

  const fw = await frames(capture, `dns.flags.response==1 && dns.qry.name=="${outside}" && dns.cname && dns.a && ip.src==${S} && ip.dst==${C}`);
  add(
    'dns-forward',
    `DNS ${outside}: forwarded by servidor, CNAME chain relayed`,
    fw.length > 0,
    fw,
    frameList(fw),
    `no reply for ${outside} with its CNAME and A from ${S} to ${C}`,
  );

  // SMTP: the conversation in which nombre1 sends to nombre2 (RFC 5321 §3.3, §4.2).
  const smtpRows = await frames(capture, `smtp && ${between}`, [
    'frame.number',
    'tcp.stream',
    'smtp.req.command',
    'smtp.req.parameter',
    'smtp.response.code',
    'smtp.rsp.parameter',
  ]);
  // nombre1's conversation with nombre2 (another of nombre1's may come first: the live check's
  // message relayed outside); without one, nombre1's first, for the reason to say what it lacks.
  const mailFrom1 = (r: string[]) => r[2] === 'MAIL' && (r[3] ?? '').toLowerCase().includes(`<${u1.email}>`) && /BODY=8BITMIME/i.test(r[3] ?? '');
  const smtpStream =
    reportSmtpStream(
      smtpRows.filter((r) => r[2] !== 'MAIL' || mailFrom1(r)),
      u1.email,
      u2.email,
    ) ?? smtpRows.find(mailFrom1)?.[1];
  const smtpIn = smtpRows.filter((r) => r[1] === smtpStream);
  const cmds = smtpIn.flatMap((r) => values(r[2]));
  const codes = smtpIn.flatMap((r) => values(r[4]));
  const ehloKeys = smtpIn.flatMap((r) => values(r[5])).map((x) => x.split(' ')[0]!.toUpperCase());
  const rcptTo2 = smtpIn.some((r) => r[2] === 'RCPT' && (r[3] ?? '').toLowerCase().includes(`<${u2.email}>`));
  const smtpMissing = [
    ...['EHLO', 'MAIL', 'RCPT', 'DATA', 'QUIT'].filter((c) => !cmds.includes(c)),
    ...['220', '250', '354', '221'].filter((c) => !codes.includes(c)).map((c) => `reply ${c}`),
    ...['SIZE', '8BITMIME', 'PIPELINING', 'HELP'].filter((k) => !ehloKeys.includes(k)).map((k) => `EHLO keyword ${k}`),
    ...(rcptTo2 ? [] : [`RCPT TO:<${u2.email}>`]),
  ];
  const smtpOk = smtpStream !== undefined && smtpMissing.length === 0;
  add(
    'smtp',
    'SMTP: EHLO, MAIL FROM with BODY=8BITMIME SIZE=, RCPT TO, DATA, QUIT (nombre1 to nombre2)',
    smtpOk,
    smtpIn,
    frameList(smtpIn),
    smtpStream === undefined ? `no MAIL FROM:<${u1.email}> BODY=8BITMIME from ${C}` : `the conversation lacks ${smtpMissing.join(', ')}`,
  );

  // POP3: nombre2's session (RFC 1939; AUTH PLAIN, RFC 5034).
  const popRows = await frames(capture, `pop && ${between}`, [
    'frame.number',
    'tcp.stream',
    'pop.request.command',
    'pop.request.parameter',
    'pop.response.indicator',
  ]);
  const byStream = new Map<string, string[][]>();
  for (const r of popRows) byStream.set(r[1]!, [...(byStream.get(r[1]!) ?? []), r]);
  // nombre2's sessions; a client that polled an empty mailbox first has several: the one with
  // the most of the report's commands is judged.
  const POP_COMMANDS = ['AUTH', 'STAT', 'LIST', 'UIDL', 'RETR', 'DELE', 'QUIT'];
  const missingIn = (rows: string[][]) => POP_COMMANDS.filter((c) => !rows.some((r) => (r[2] ?? '').toUpperCase() === c));
  const logins = [...byStream.values()].filter((rows) =>
    popLoginOf(
      rows.map((r) => [r[2], r[3]].filter(Boolean).join(' ')),
      u2.name,
    ),
  );
  const popIn = logins.sort((x, y) => missingIn(x).length - missingIn(y).length)[0] ?? [];
  const popMissing = missingIn(popIn);
  const popOk = popIn.length > 0 && popMissing.length === 0 && popIn.some((r) => values(r[4]).includes('+OK'));
  add(
    'pop3',
    'POP3: AUTH PLAIN, STAT, LIST, UIDL, RETR (the message just sent), DELE, QUIT',
    popOk,
    popIn,
    frameList(popIn),
    popIn.length === 0 ? `no POP3 login of ${u2.name} between ${C} and ${S}` : `${u2.name}'s session lacks ${popMissing.join(', ')}`,
  );

  // HTTP: the page by name, and the cookie counter going from 1 to 2 (the report's web_sstt).
  const get = await frames(capture, `http.request.method=="GET" && http.host=="${www}" && ip.src==${C} && ip.dst==${S}`);
  const c1 = await frames(capture, `http.set_cookie contains "cookie_counter=1" && ip.src==${S}`);
  const c2 = await frames(capture, `http.set_cookie contains "cookie_counter=2" && ip.src==${S}`);
  const httpOk = get.length > 0 && c1.length > 0 && c2.length > 0;
  add(
    'http',
    `HTTP GET http://${www}/ by name, cookie_counter 1 then 2`,
    httpOk,
    [...get, ...c1, ...c2],
    frameList([...get.slice(0, 2), ...c1.slice(0, 1), ...c2.slice(0, 1)]),
    get.length === 0 ? `no GET with Host: ${www} from ${C}` : 'no Set-Cookie: cookie_counter=1 then =2 from the server',
  );

  // HTTPS: the client names the site (SNI, RFC 6066 §3) and the server asks for its certificate.
  const hello = await frames(capture, `tls.handshake.type==1 && tls.handshake.extensions_server_name=="${www}" && ip.src==${C} && ip.dst==${S}`, [
    'frame.number',
    'tcp.stream',
  ]);
  const certReq = await frames(capture, `tls.handshake.type==13 && ip.src==${S} && ip.dst==${C}`, ['frame.number', 'tcp.stream']);
  const asked = certReq.filter((r) => hello.some((h) => h[1] === r[1]));
  add(
    'https',
    `HTTPS https://${www}/ with ${u1.name}'s certificate (CertificateRequest in the handshake)`,
    asked.length > 0,
    asked,
    frameList(asked),
    hello.length === 0 ? `no TLS ClientHello for ${www} from ${C}` : 'the server sent no CertificateRequest in those handshakes',
  );

  if (o.ipsec) {
    // IKEv2 (RFC 7296 §1.2): IKE_SA_INIT (34) and IKE_AUTH (35), request and response each.
    const init = await frames(capture, `isakmp.exchangetype==34 && ${between}`);
    const auth = await frames(capture, `isakmp.exchangetype==35 && ${between}`);
    add(
      'ike',
      'IKEv2: IKE_SA_INIT and IKE_AUTH between cliente and servidor',
      init.length >= 2 && auth.length >= 2,
      [...init, ...auth],
      `IKE_SA_INIT ${frameList(init)}; IKE_AUTH ${frameList(auth)}`,
      'no IKE_SA_INIT and IKE_AUTH exchange between the two',
    );
    // ESP by the outer header's direction: with the null cipher the inner packet is decoded too,
    // and a filter on ip.src matches either header.
    const esp = await frames(capture, `esp && ${between}`, ['frame.number', 'ip.src', 'ip.dst', 'esp.spi']);
    const dir = (src: string, dst: string) => esp.filter((r) => values(r[1])[0] === src && values(r[2])[0] === dst);
    const [up, down] = [dir(C, S), dir(S, C)];
    const spis = (rows: string[][]) => [...new Set(rows.map((x) => values(x[3])[0]))].join(' ');
    add(
      'esp',
      'ESP in both directions',
      up.length > 0 && down.length > 0,
      [...up.slice(0, 3), ...down.slice(0, 3)],
      `cliente->servidor SPI ${spis(up) || '-'} (${frameList(up, 3)}); servidor->cliente SPI ${spis(down) || '-'} (${frameList(down, 3)})`,
      up.length === 0 && down.length === 0 ? 'no ESP between the two' : `no ESP ${up.length === 0 ? 'from cliente to servidor' : 'from servidor to cliente'}`,
    );
    const clear = await frames(capture, `${between} && !esp && !isakmp && (tcp || dns || icmp)`);
    add(
      'clear',
      'nothing between cliente and servidor outside ESP',
      clear.length === 0,
      clear,
      clear.length === 0 ? 'no clear-text frame' : `in clear: ${frameList(clear)}`,
      `${clear.length} frames in clear between ${C} and ${S} (${frameList(clear)}): the services must travel in the tunnel`,
    );
  }

  // A capture of another student's lab: say so in every failing step.
  const others = domainsIn(capture).filter((d) => d !== s.domain);
  if (others.length > 0) {
    for (const st of steps) if (!st.ok) st.reason = `${st.reason}; the capture is of ${others.join(', ')}, not ${s.domain}`;
  }
  return steps;
}

/** One-line summaries of frames as tshark decodes them (the HTML report's evidence). */
export async function decodeFrames(capture: string, numbers: number[]): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  if (numbers.length === 0) return out;
  const text = await tshark(capture, `frame.number in {${[...new Set(numbers)].join(', ')}}`, []);
  for (const line of text.split('\n')) {
    const n = Number(/^\s*(\d+)\s/.exec(line)?.[1]);
    if (n) out.set(n, line.trim());
  }
  return out;
}
