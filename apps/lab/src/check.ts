// `sstt-lab check`: from cliente, the lab report's exchanges replayed (dig as the student typed
// it, then replay.ts for SMTP, POP3, HTTP and HTTPS), each reply judged against what the report's
// traces show, and the LAN capture read back with tshark (ESP's null cipher decoded, as the
// report's Wireshark did) for the frames that prove each step. Exit 0 only when every step holds.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { certPaths } from '@sstt/scenario';
import { requireTool, run } from '@sstt/host';
import { hostOf } from './host.ts';
import type { LabContext } from './lab.ts';
import { OUTSIDE_ZONE } from './outside.ts';
import type { LabState } from './state.ts';

export interface Step {
  name: string;
  ok: boolean;
  evidence: string;
}

/** Rows of tshark fields for the frames of the capture matching a display filter. */
async function frames(capture: string, filter: string, fields: string[] = ['frame.number']): Promise<string[][]> {
  const r = await run(
    requireTool('tshark'),
    [
      '-n',
      '-r',
      capture,
      '-o',
      'esp.enable_null_encryption_decode_heuristic:TRUE',
      '-Y',
      filter,
      '-T',
      'fields',
      '-E',
      'separator=/t',
      ...fields.flatMap((f) => ['-e', f]),
    ],
    { timeoutMs: 60_000 },
  );
  if (r.code !== 0) throw new Error(`tshark -Y '${filter}': ${r.stderr.trim()}`);
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split('\t'));
}

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

const nums = (rows: string[][], max = 6) =>
  rows.length === 0
    ? 'no frame'
    : `frame${rows.length > 1 ? 's' : ''} ${rows
        .slice(0, max)
        .map((r) => r[0])
        .join(', ')}${rows.length > max ? ', ...' : ''}`;

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

export async function runCheck(ctx: LabContext, state: LabState, log: (line: string) => void): Promise<boolean> {
  const { s, topo } = ctx;
  const cliente = hostOf(topo, 'cliente');
  const steps: Step[] = [];
  const add = (name: string, ok: boolean, evidence: string) => steps.push({ name, ok, evidence });
  const dig = (args: string[]) => cliente.exec([requireTool('dig'), ...args]);
  const C = s.network.client;
  const S = s.network.server;
  const between = `((ip.src==${C} && ip.dst==${S}) || (ip.src==${S} && ip.dst==${C}))`;
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
  const args = {
    domain: s.domain,
    client: C,
    from: { email: u1.email, name: u1.name, password: u1.password },
    to: { email: u2.email, name: u2.name, password: u2.password },
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
    add('replay on cliente', false, `${replay.stdout}${replay.stderr}`);
  }
  // Every exchange is done: read the capture once dumpcap has written it all.
  await captureSettled(topo.capture);
  const aOk =
    section(a, 'ANSWER').some((l) => l.startsWith(`${www}.`) && l.endsWith(`IN A ${S}`)) &&
    section(a, 'AUTHORITY').some((l) => l.endsWith(`IN NS ${dnsName}.`)) &&
    section(a, 'ADDITIONAL').some((l) => l.startsWith(`${dnsName}.`) && l.endsWith(`IN A ${S}`));
  const aFrames = await frames(topo.capture, `dns.flags.response==1 && dns.qry.name=="${www}" && dns.qry.type==1 && ${between}`);
  add(`DNS ${www} A: answer, NS in authority, glue in additional`, aOk && aFrames.length > 0, `${nums(aFrames)}${aOk ? '' : `; dig said:\n${a}`}`);

  const aaaaOk = /status: NOERROR/.test(aaaa) && /ANSWER: 0,/.test(aaaa) && section(aaaa, 'AUTHORITY').some((l) => / IN SOA /.test(l));
  const aaaaFrames = await frames(topo.capture, `dns.flags.response==1 && dns.qry.name=="${www}" && dns.qry.type==28 && dns.count.answers==0 && ${between}`);
  add(`DNS ${www} AAAA: NODATA with the SOA`, aaaaOk && aaaaFrames.length > 0, `${nums(aaaaFrames)}${aaaaOk ? '' : `; dig said:\n${aaaa}`}`);

  const fwOk = section(fw, 'ANSWER').some((l) => / IN CNAME /.test(l)) && section(fw, 'ANSWER').some((l) => / IN A /.test(l));
  const fwFrames = await frames(topo.capture, `dns.qry.name=="${outside}" && ip.src==${S} && ip.dst==${s.network.gateway}`);
  add(
    `DNS ${outside}: forwarded by servidor to ${s.network.gateway}, CNAME chain relayed`,
    fwOk && fwFrames.length > 0,
    `${nums(fwFrames)}${fwOk ? '' : `; dig said:\n${fw}`}`,
  );

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
  const smtpFrames = await frames(topo.capture, `smtp.req.command=="MAIL" && smtp.req.parameter contains "BODY=8BITMIME" && ip.src==${C}`);
  add(
    'SMTP: EHLO, MAIL FROM with BODY=8BITMIME SIZE=, RCPT TO, DATA, QUIT (nombre1 to nombre2)',
    smtpOk && smtpFrames.length > 0,
    `${nums(smtpFrames)}${smtpOk ? '' : `; dialogue: ${JSON.stringify(smtp)}`}`,
  );

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
  const popFrames = await frames(topo.capture, `pop.request.command=="AUTH" && ip.src==${C}`);
  add(
    'POP3: AUTH PLAIN, STAT, LIST, UIDL, RETR (the message just sent), DELE, QUIT',
    popOk && popFrames.length > 0,
    `${nums(popFrames)}${popOk ? '' : `; dialogue: ${JSON.stringify(pop)}`}`,
  );

  const http = r.http ?? {};
  const httpOk =
    /^HTTP\/1\.1 200/.test(str(http.first)) && /Set-Cookie: cookie_counter=1/i.test(str(http.first)) && /Set-Cookie: cookie_counter=2/i.test(str(http.second));
  const httpFrames = await frames(topo.capture, `http.request.method=="GET" && http.host=="${www}" && ip.src==${C}`);
  add(
    `HTTP GET http://${www}/ by name, cookie_counter 1 then 2`,
    httpOk && httpFrames.length > 0,
    `${nums(httpFrames)}${httpOk ? '' : `; replies: ${JSON.stringify(http)}`}`,
  );

  const https = r.https ?? {};
  const httpsOk = /^HTTP\/1\.1 200/.test(str(https.head));
  const certReq = await frames(topo.capture, `tls.handshake.type==13 && ip.src==${S}`);
  add(
    `HTTPS https://${www}/ with ${u1.name}'s certificate (CertificateRequest in the handshake)`,
    httpsOk && certReq.length > 0,
    `${nums(certReq)}${httpsOk ? '' : `; reply: ${JSON.stringify(https)}`}`,
  );

  // IPsec: the negotiation, ESP both ways, and nothing of the services in clear between the two.
  if (state.ipsec !== 'off') {
    const init = await frames(topo.capture, `isakmp.exchangetype==34 && ${between}`);
    const auth = await frames(topo.capture, `isakmp.exchangetype==35 && ${between}`);
    add(
      'IKEv2: IKE_SA_INIT and IKE_AUTH between cliente and servidor',
      init.length >= 2 && auth.length >= 2,
      `IKE_SA_INIT ${nums(init)}; IKE_AUTH ${nums(auth)}`,
    );
    const up = await frames(topo.capture, `esp && ip.src==${C} && ip.dst==${S}`, ['frame.number', 'esp.spi']);
    const downRows = await frames(topo.capture, `esp && ip.src==${S} && ip.dst==${C}`, ['frame.number', 'esp.spi']);
    const spis = (rows: string[][]) => [...new Set(rows.map((x) => x[1]))].join(' ');
    add(
      'ESP in both directions',
      up.length > 0 && downRows.length > 0,
      `cliente->servidor SPI ${spis(up) || '-'} (${nums(up, 3)}); servidor->cliente SPI ${spis(downRows) || '-'} (${nums(downRows, 3)})`,
    );
    const clear = await frames(topo.capture, `${between} && !esp && !isakmp && (tcp || dns || icmp)`);
    add('nothing between cliente and servidor outside ESP', clear.length === 0, clear.length === 0 ? 'no clear-text frame' : `in clear: ${nums(clear)}`);
  }

  const w = Math.max(...steps.map((x) => x.name.length));
  log(`${'STEP'.padEnd(w)}  RESULT  EVIDENCE (${path.relative(process.cwd(), topo.capture)})`);
  for (const x of steps) log(`${x.name.padEnd(w)}  ${x.ok ? 'PASS  ' : 'FAIL  '}  ${x.evidence}`);
  const ok = steps.every((x) => x.ok);
  log(ok ? `all ${steps.length} steps hold` : `${steps.filter((x) => !x.ok).length} of ${steps.length} steps failed`);
  return ok;
}
