// Run on cliente by `sstt-lab check`: the lab report's exchanges, by name through cliente's
// resolver (the server's DNS), with the exact commands the report's clients sent (Thunderbird's
// SMTP and POP3 dialogue, a browser's GET with the cookie, HTTPS with the client certificate).
// First, one message more than the report's: nombre1 writes outside, to the university, through
// servidor as Thunderbird sends (servidor relays it to um.es's MX on exterior, signing it with
// the domain's DKIM keys: a server signs only what it sends by SMTP, so only relayed mail shows
// it). Prints one JSON object: every reply, for check.ts to judge.
import dns from 'node:dns/promises';
import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';

interface Args {
  domain: string;
  client: string;
  from: { email: string; name: string; password: string };
  to: { email: string; name: string; password: string };
  /** The mailbox outside (at um.es) the relayed message goes to, and that message's subject. */
  outside: { email: string; subject: string };
  ports: { smtp: number; pop3: number; http: number; https: number };
  ca: string;
  cert: string;
  key: string;
  subject: string;
}

/** A line-oriented conversation over a socket: send a line, read one reply (multi-line aware). */
class Dialogue {
  private buf = '';
  private waiters: Array<() => void> = [];
  readonly transcript: string[] = [];
  constructor(readonly sock: net.Socket) {
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      this.buf += d;
      for (const w of this.waiters.splice(0)) w();
    });
  }
  private async until(done: (buf: string) => number): Promise<string> {
    for (;;) {
      const end = done(this.buf);
      if (end >= 0) {
        const out = this.buf.slice(0, end);
        this.buf = this.buf.slice(end);
        this.transcript.push(
          ...out
            .replace(/\r\n$/, '')
            .split('\r\n')
            .map((l) => `S: ${l}`),
        );
        return out;
      }
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no reply; so far: ${JSON.stringify(this.buf.slice(-200))}`)), 10_000);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }
  /** An SMTP reply: lines until one whose 4th character is a space. */
  smtpReply(): Promise<string> {
    return this.until((b) => {
      const m = /(^|\r\n)\d{3} [^\r\n]*\r\n/.exec(b);
      return m ? m.index + m[0].length : -1;
    });
  }
  line(): Promise<string> {
    return this.until((b) => (b.includes('\r\n') ? b.indexOf('\r\n') + 2 : -1));
  }
  multiline(): Promise<string> {
    return this.until((b) => (b.includes('\r\n.\r\n') ? b.indexOf('\r\n.\r\n') + 5 : -1));
  }
  send(line: string, shown = line): void {
    this.transcript.push(`C: ${shown}`);
    this.sock.write(`${line}\r\n`);
  }
}

function connect(host: string, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port }, () => resolve(s));
    s.once('error', reject);
  });
}

async function smtp(a: Args, host: string, to: string, subject: string) {
  const d = new Dialogue(await connect(host, a.ports.smtp));
  await d.smtpReply();
  d.send(`EHLO [${a.client}]`);
  const ehlo = await d.smtpReply();
  const body = [
    `From: ${a.from.email}`,
    `To: ${to}`,
    `Subject: ${subject}`,
    'Content-Type: text/plain; charset=UTF-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    'Hola, esto es una prueba del laboratorio.',
    '',
  ].join('\r\n');
  d.send(`MAIL FROM:<${a.from.email}> BODY=8BITMIME SIZE=${Buffer.byteLength(body)}`);
  const mail = await d.smtpReply();
  d.send(`RCPT TO:<${to}>`);
  const rcpt = await d.smtpReply();
  d.send('DATA');
  const data = await d.smtpReply();
  d.sock.write(`${body}.\r\n`);
  d.transcript.push('C: (the message) .');
  const sent = await d.smtpReply();
  d.send('QUIT');
  const quit = await d.smtpReply();
  d.sock.end();
  return { ehlo, mail, rcpt, data, sent, quit, transcript: d.transcript };
}

/**
 * A mail client's check for new mail: a server may deliver after it said 250 to DATA (exim queues,
 * then a delivery process writes the Maildir; RFC 5321 §4.2.5 only asks that it took
 * responsibility), so the message may not be there yet. Like a client polling, a session that
 * finds the mailbox empty (or only older mail) quits and another one follows, within a bound.
 */
const POP3_POLL = { tries: 20, everyMs: 500 };

async function pop3(a: Args, host: string) {
  for (let attempt = 1; ; attempt++) {
    const d = new Dialogue(await connect(host, a.ports.pop3));
    const greeting = await d.line();
    d.send('CAPA');
    const capa = await d.multiline();
    d.send('AUTH PLAIN');
    const cont = await d.line();
    const blob = Buffer.from(`\0${a.to.name}\0${a.to.password}`).toString('base64');
    d.send(blob, '(AUTH PLAIN blob)');
    const auth = await d.line();
    d.send('STAT');
    const stat = await d.line();
    const n = Number(/^\+OK (\d+)/.exec(stat)?.[1] ?? 0);
    const again = async () => {
      d.send('QUIT');
      await d.line();
      d.sock.end();
      await new Promise((r) => setTimeout(r, POP3_POLL.everyMs));
    };
    if (n === 0 && /^\+OK/.test(stat) && attempt < POP3_POLL.tries) {
      await again();
      continue;
    }
    d.send('LIST');
    const list = await d.multiline();
    d.send('UIDL');
    const uidl = await d.multiline();
    d.send(`RETR ${n}`);
    const retr = await d.multiline();
    // The newest message is an older one: ours is not delivered yet.
    if (!retr.includes(a.subject) && /^\+OK/.test(retr) && attempt < POP3_POLL.tries) {
      await again();
      continue;
    }
    d.send(`DELE ${n}`);
    const dele = await d.line();
    d.send('QUIT');
    const quit = await d.line();
    d.sock.end();
    return { greeting, capa, cont, auth, stat, list, uidl, retr, dele, quit, sessions: attempt, transcript: d.transcript };
  }
}

async function httpGet(a: Args, host: string, cookie?: string) {
  const sock = await connect(host, a.ports.http);
  const req = [`GET / HTTP/1.1`, `Host: www.${a.domain}`, ...(cookie ? [`Cookie: ${cookie}`] : []), 'Connection: close', '', ''].join('\r\n');
  sock.write(req);
  let text = '';
  sock.setEncoding('utf8');
  for await (const chunk of sock) text += chunk as string;
  return text.slice(0, text.indexOf('\r\n\r\n'));
}

async function https(a: Args, host: string) {
  return new Promise<{ head: string; protocol: string | null }>((resolve, reject) => {
    // TLS 1.2, as in the report: the server's CertificateRequest is then visible in the capture.
    const s = tls.connect(
      {
        host,
        servername: `www.${a.domain}`,
        port: a.ports.https,
        ca: fs.readFileSync(a.ca),
        cert: fs.readFileSync(a.cert),
        key: fs.readFileSync(a.key),
        maxVersion: 'TLSv1.2',
      },
      () => {
        s.write(`GET / HTTP/1.1\r\nHost: www.${a.domain}\r\nConnection: close\r\n\r\n`);
      },
    );
    let text = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => (text += d));
    s.on('end', () => resolve({ head: text.slice(0, text.indexOf('\r\n\r\n')), protocol: s.getProtocol() }));
    s.on('error', reject);
  });
}

async function main() {
  const a = JSON.parse(process.argv[2]!) as Args;
  const out: Record<string, unknown> = {};
  const step = async (name: string, f: () => Promise<unknown>) => {
    try {
      out[name] = await f();
    } catch (err) {
      out[name] = { error: (err as Error).message };
    }
  };
  const smtpHost = async () => (await dns.lookup(`smtp.${a.domain}`, { family: 4 })).address;
  // The relayed message first: its delivery outside runs while the report's exchanges do.
  await step('relay', async () => smtp(a, await smtpHost(), a.outside.email, a.outside.subject));
  await step('smtp', async () => smtp(a, await smtpHost(), a.to.email, a.subject));
  await step('pop3', async () => pop3(a, (await dns.lookup(`pop.${a.domain}`, { family: 4 })).address));
  await step('http', async () => {
    const www = (await dns.lookup(`www.${a.domain}`, { family: 4 })).address;
    const first = await httpGet(a, www);
    const cookie = /Set-Cookie: (cookie_counter=\d+)/i.exec(first)?.[1];
    return { first, second: await httpGet(a, www, cookie) };
  });
  await step('https', async () => https(a, (await dns.lookup(`www.${a.domain}`, { family: 4 })).address));
  process.stdout.write(JSON.stringify(out));
}

void main();
