// `sstt-lab check` on the running lab: from cliente, the lab report's exchanges replayed (dig as
// the student typed it, then replay.ts for SMTP, POP3, HTTP and HTTPS), each reply judged against
// what the report's traces show, and the LAN capture graded by grade.ts (the same judge as
// `check --pcap`) for the frames that prove each step. A step holds when both hold. One step is
// the live lab's own (no report's capture has it): the replay's message to um.es left servidor
// for the outside MX, DKIM-signed by the domain with every selector, and the MX kept it.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { certPaths, type Scenario } from '@sstt/scenario';
import { requireTool } from '@sstt/host';
import { hostOf } from './host.ts';
import type { LabContext } from './lab.ts';
import { OUTSIDE_MAILBOX, OUTSIDE_ZONE, outsideMail } from './outside.ts';
import { relayedMessage } from './relayed.ts';
import type { LabState } from './state.ts';
import { readJournal } from '@sstt/events';
import { frameList, frames, gradeCapture, type Step, type StepKey } from './grade.ts';
import type { CheckResult } from './report.ts';

/** dumpcap writes what it captured every 100 ms: wait (bounded) until the file stops growing. */
async function captureSettled(file: string): Promise<void> {
  let last = -1;
  for (let i = 0; i < 50; i++) {
    await new Promise((r) => setTimeout(r, 150));
    const size = fs.statSync(file).size;
    if (size === last) return;
    last = size;
  }
}

function section(dig: string, name: string): string[] {
  const m = new RegExp(`;; ${name} SECTION:\\n([\\s\\S]*?)(\\n\\n|$)`).exec(dig);
  return m ? m[1]!.split('\n').map((l) => l.replace(/\s+/g, ' ').trim()) : [];
}

/** The replay script beside this module: dist/replay.js in the bundle, src/replay.ts from source. */
function replayScript(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const js = path.join(here, 'replay.js');
  return fs.existsSync(js) ? js : path.join(here, 'replay.ts');
}

/** The protocol of the console's sessions that each step's exchange is, and which of the replay's sessions (its first, or its last). */
const STEP_SESSIONS: Partial<Record<StepKey, { protocol: string; pick: 'first' | 'last' }>> = {
  // The replay sends the relayed message first, then the report's.
  relay: { protocol: 'smtp', pick: 'first' },
  smtp: { protocol: 'smtp', pick: 'last' },
  // The last POP3 session is the one that read the message (a replay that polled has several).
  pop3: { protocol: 'pop3', pick: 'last' },
  http: { protocol: 'http', pick: 'first' },
  https: { protocol: 'https', pick: 'first' },
};

/**
 * Each step linked to the console's session of its exchange: the servers' journal (what the
 * console reads) holds a session per connection with the client's address; the replay's are
 * those from cliente since the check began. Read after the capture is graded (seconds of tshark
 * after the replay ended, the journal flushes every FLUSH_MS = 200 ms). The reference lab's
 * programs keep no journal: their steps stay unlinked (web_sstt's HTTP excepted).
 */
function linkSessions(steps: Step[], eventsDir: string, client: string, since: number): void {
  if (!fs.existsSync(eventsDir)) return;
  const opened = readJournal(eventsDir).filter((e) => e.k === 'open' && e.t >= since && String(e.c).startsWith(`${client}:`));
  for (const st of steps) {
    const want = STEP_SESSIONS[st.key];
    const mine = opened.filter((e) => e.p === want?.protocol);
    const e = want?.pick === 'last' ? mine.at(-1) : mine[0];
    if (e) st.session = e.s;
  }
}

/** How long the outside MX may take to receive the relayed message (servidor delivers it at once: exim and our queue runner both try immediately). */
const RELAY_WAIT = { tries: 60, everyMs: 250 };

/** The file of the message the outside MX kept with this subject, once it has it (bounded). */
async function outsideReceived(dir: string, subject: string): Promise<string | undefined> {
  for (let i = 0; i < RELAY_WAIT.tries; i++) {
    const file = outsideMail(dir).find((f) => fs.readFileSync(f, 'latin1').includes(`\r\nSubject: ${subject}\r\n`));
    if (file) return file;
    await new Promise((r) => setTimeout(r, RELAY_WAIT.everyMs));
  }
  return undefined;
}

/**
 * The relay step from the capture: servidor's SMTP conversation with the outside MX for an address
 * at um.es, the MX's 250 to the message, and a DKIM-Signature of the domain for every selector
 * (RFC 6376 §3.5: d= the signing domain, s= the selector) in the message as it crossed the LAN.
 */
async function relayStep(capture: string, s: Scenario, server: string): Promise<Step> {
  const mx = s.network.gateway;
  // The MX's reply to the message follows the file it wrote; dumpcap may hand its frames to the
  // capture a little after the file looked settled: look again, within a bound, as for DNS.
  let m = await relayedMessage(capture, server, mx, OUTSIDE_ZONE);
  for (let i = 0; i < 20 && (m === undefined || m.reply === ''); i++) {
    await new Promise((r) => setTimeout(r, 250));
    m = await relayedMessage(capture, server, mx, OUTSIDE_ZONE);
  }
  const selectors = s.mail.auth.dkim.map((k) => k.selector);
  const ours = m?.signatures.filter((x) => x.d?.toLowerCase() === s.domain) ?? [];
  const unsigned = selectors.filter((sel) => !ours.some((x) => x.s === sel));
  const ok = m !== undefined && /^250 /.test(m.reply) && unsigned.length === 0;
  const signed = ours.map((x) => `d=${x.d} s=${x.s} a=${x.a}`).join('; ');
  const step: Step = {
    key: 'relay',
    name: `SMTP relay to ${OUTSIDE_ZONE}: servidor hands nombre1's message to the outside MX, DKIM-signed by the domain (${selectors.join(', ')})`,
    ok,
    frames: m?.frames.slice(0, 12) ?? [],
    evidence: m ? `${frameList(m.frames.map((f) => [String(f)]))}; ${signed ? `DKIM-Signature ${signed}` : 'no DKIM-Signature of the domain'}` : 'no frame',
  };
  if (!ok) {
    step.reason =
      m === undefined
        ? `no SMTP conversation from ${server} to ${mx} with a RCPT TO at ${OUTSIDE_ZONE}`
        : !/^250 /.test(m.reply)
          ? `the outside MX did not accept the message (${m.reply || 'no reply in the capture'})`
          : `no DKIM-Signature of d=${s.domain} with s=${unsigned.join(', ')}`;
  }
  return step;
}

/** What the replay itself saw, per step: undefined when it holds, else what was wrong. */
type LiveFaults = Partial<Record<StepKey, string>>;

export async function runCheck(ctx: LabContext, state: LabState): Promise<CheckResult> {
  const { s, topo } = ctx;
  const startedAt = Date.now();
  const cliente = hostOf(topo, 'cliente');
  const faults: LiveFaults = {};
  const dig = (args: string[]) => cliente.exec([requireTool('dig'), ...args]);
  const C = s.network.client;
  const S = s.network.server;
  const www = `www.${s.domain}`;
  const dnsName = s.names.find((n) => n.label === 'dns')!.fqdn;

  // DNS, as the report's client asked it (by the resolver in /etc/resolv.conf, no @).
  const outside = `www.${OUTSIDE_ZONE}`;
  const a = (await dig([www, 'A'])).stdout;
  const aaaa = (await dig([www, 'AAAA'])).stdout;
  const fw = (await dig([outside, 'A'])).stdout;

  // SMTP, POP3, HTTP, HTTPS from cliente, by name.
  const [u1, u2] = [s.users[0]!, s.users[1] ?? s.users[0]!];
  const c = certPaths(s);
  const subject = `sstt-lab check ${Date.now()}`;
  const relayed = { email: OUTSIDE_MAILBOX, subject: `${subject} (${OUTSIDE_ZONE})` };
  const args = {
    domain: s.domain,
    client: C,
    from: { email: u1.email, name: u1.name, password: u1.password },
    to: { email: u2.email, name: u2.name, password: u2.password },
    outside: relayed,
    ports: { smtp: s.listen.ports.smtp, pop3: s.listen.ports.pop3, http: s.listen.ports.http, https: s.listen.ports.https },
    ca: c.ca.cert,
    cert: c.client(u1.name).cert,
    key: c.client(u1.name).key,
    subject,
  };
  const replay = await cliente.exec([process.execPath, ...process.execArgv, replayScript(), JSON.stringify(args)], { timeoutMs: 60_000 });
  let r: Record<string, Record<string, unknown>> = {};
  try {
    r = JSON.parse(replay.stdout) as typeof r;
  } catch {
    const why = `the replay on cliente failed: ${replay.stdout}${replay.stderr}`;
    for (const k of ['smtp', 'relay', 'pop3', 'http', 'https'] as const) faults[k] = why;
  }
  // The relayed message reaches the outside MX when servidor's queue delivers it (exim and our
  // mail app both take it, then deliver): wait for it there, within a bound, before reading the capture.
  const received = await outsideReceived(topo.outsideMail, relayed.subject);
  // Every exchange is done: read the capture once dumpcap has written it all.
  await captureSettled(topo.capture);

  const aOk =
    section(a, 'ANSWER').some((l) => l.startsWith(`${www}.`) && l.endsWith(`IN A ${S}`)) &&
    section(a, 'AUTHORITY').some((l) => l.endsWith(`IN NS ${dnsName}.`)) &&
    section(a, 'ADDITIONAL').some((l) => l.startsWith(`${dnsName}.`) && l.endsWith(`IN A ${S}`));
  if (!aOk) faults['dns-a'] = `dig said:\n${a}`;
  const aaaaOk = /status: NOERROR/.test(aaaa) && /ANSWER: 0,/.test(aaaa) && section(aaaa, 'AUTHORITY').some((l) => / IN SOA /.test(l));
  if (!aaaaOk) faults['dns-aaaa'] = `dig said:\n${aaaa}`;
  const fwOk = section(fw, 'ANSWER').some((l) => / IN CNAME /.test(l)) && section(fw, 'ANSWER').some((l) => / IN A /.test(l));
  // In the lab the forwarded query itself is on the LAN too (servidor asks exterior's stand-in).
  // dumpcap hands frames to its file in batches: a frame seen on the wire may reach the file a
  // little later than the file looks settled; look again, within a bound, before saying it is absent.
  const fwFilter = `dns.qry.name=="${outside}" && ip.src==${S} && ip.dst==${s.network.gateway}`;
  let fwFrames = await frames(topo.capture, fwFilter);
  for (let i = 0; i < 20 && fwFrames.length === 0; i++) {
    await new Promise((r) => setTimeout(r, 250));
    fwFrames = await frames(topo.capture, fwFilter);
  }
  if (!fwOk) faults['dns-forward'] = `dig said:\n${fw}`;
  else if (fwFrames.length === 0) faults['dns-forward'] = `no query for ${outside} from servidor to ${s.network.gateway} in the capture`;

  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  const smtp = r.smtp ?? {};
  const smtpOk =
    Array.isArray(smtp.transcript) &&
    String(smtp.transcript[0]).startsWith('S: 220 ') &&
    ['SIZE', '8BITMIME', 'PIPELINING', 'HELP'].every((k) => new RegExp(`^250[- ]${k}`, 'm').test(str(smtp.ehlo))) &&
    /^250 OK/.test(str(smtp.mail)) &&
    /^250 Accepted/.test(str(smtp.rcpt)) &&
    /^354 Enter message, ending with "." on a line by itself/.test(str(smtp.data)) &&
    /^250 OK id=/.test(str(smtp.sent)) &&
    /^221 /.test(str(smtp.quit));
  if (!smtpOk) faults.smtp ??= `dialogue: ${JSON.stringify(smtp)}`;

  const relay = r.relay ?? {};
  const relayOk = /^250 /.test(str(relay.rcpt)) && /^250 /.test(str(relay.sent));
  if (!relayOk) faults.relay ??= `dialogue: ${JSON.stringify(relay)}`;
  else if (received === undefined) faults.relay = `the outside MX kept no message "${relayed.subject}" in ${topo.outsideMail}`;

  const pop = r.pop3 ?? {};
  const popOk =
    /^\+OK/.test(str(pop.greeting)) &&
    /^\+ ?/.test(str(pop.cont)) &&
    /^\+OK Logged in\./.test(str(pop.auth)) &&
    /^\+OK \d+ \d+/.test(str(pop.stat)) &&
    /^\+OK \d+ messages:/.test(str(pop.list)) &&
    /^\+OK/.test(str(pop.uidl)) &&
    /^\+OK \d+ octets/.test(str(pop.retr)) &&
    str(pop.retr).includes(subject) &&
    /^\+OK Marked to be deleted\./.test(str(pop.dele)) &&
    /^\+OK Logging out, messages deleted\./.test(str(pop.quit));
  if (!popOk) faults.pop3 ??= `dialogue: ${JSON.stringify(pop)}`;

  const http = r.http ?? {};
  const httpOk =
    /^HTTP\/1\.1 200/.test(str(http.first)) && /Set-Cookie: cookie_counter=1/i.test(str(http.first)) && /Set-Cookie: cookie_counter=2/i.test(str(http.second));
  if (!httpOk) faults.http ??= `replies: ${JSON.stringify(http)}`;

  const https = r.https ?? {};
  if (!/^HTTP\/1\.1 200/.test(str(https.head))) faults.https ??= `reply: ${JSON.stringify(https)}`;

  const steps = await gradeCapture({ capture: topo.capture, s, client: C, server: S, ipsec: state.ipsec !== 'off' });
  steps.splice(steps.findIndex((st) => st.key === 'smtp') + 1, 0, await relayStep(topo.capture, s, S));
  linkSessions(steps, s.paths.events, C, startedAt);
  for (const st of steps) {
    const fault = faults[st.key];
    if (fault === undefined) continue;
    st.reason = st.ok ? `the replay saw: ${fault}` : `${st.reason}; the replay saw: ${fault}`;
    st.ok = false;
  }
  return { domain: s.domain, id: s.id, capture: topo.capture, mode: 'live', steps };
}
