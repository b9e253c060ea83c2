// POP3 download load: log in (USER/PASS), STAT, LIST, UIDL, RETR every message one after the
// other (no pipelining, like a mail client), QUIT. Prints one JSON line with msgs_per_s.
// Usage: tsx bench/pop3-load.ts <port> <user> <password> [host]   Env: TIMEOUT_MS (120000)
import net from 'node:net';

const [portArg, user, pass, host = '127.0.0.1'] = process.argv.slice(2);
const timeout = Number(process.env.TIMEOUT_MS ?? 120_000);
setTimeout(() => fail('timeout'), timeout).unref();

function fail(error: string): never {
  process.stdout.write(JSON.stringify({ error }) + '\n');
  process.exit(1);
}

const sock = net.connect(Number(portArg), host);
sock.setNoDelay(true);
let buf: Buffer = Buffer.alloc(0);
let wake: (() => void) | undefined;
const onLineData = (d: Buffer) => {
  buf = buf.length ? Buffer.concat([buf, d]) : d;
  wake?.();
};
sock.on('data', onLineData);
sock.on('error', (e) => fail(e.message));
sock.on('close', () => wake?.());

function until<T>(take: () => T | undefined): Promise<T> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const v = take();
      if (v !== undefined) {
        wake = undefined;
        resolve(v);
      } else if (sock.destroyed) reject(new Error('connection closed'));
      else wake = check;
    };
    check();
  });
}
const line = () =>
  until(() => {
    const i = buf.indexOf('\r\n');
    if (i < 0) return undefined;
    const l = buf.toString('latin1', 0, i);
    buf = buf.subarray(i + 2);
    return l;
  });
/** A multi-line body up to CRLF.CRLF (or an empty one). */
const body = () =>
  until(() => {
    if (buf.length >= 3 && buf[0] === 0x2e && buf[1] === 0x0d && buf[2] === 0x0a) {
      buf = buf.subarray(3);
      return Buffer.alloc(0);
    }
    const i = buf.indexOf('\r\n.\r\n');
    if (i < 0) return undefined;
    const b = buf.subarray(0, i + 2);
    buf = buf.subarray(i + 5);
    return b;
  });
async function cmd(c: string | null, multi = false): Promise<{ l: string; b?: Buffer }> {
  if (c) sock.write(`${c}\r\n`);
  const l = await line();
  if (!l.startsWith('+OK')) throw new Error(`${c ?? 'greeting'} -> ${l}`);
  return multi ? { l, b: await body() } : { l };
}

/**
 * RETR 1..n, each sent once the previous reply has fully arrived. A lean callback loop (no
 * promise per message, the terminator searched for only in the new bytes) so that the client's
 * own cost per round trip stays small next to the server's: this measures the servers.
 * Resolves with the octets received in the bodies.
 */
function retrAll(n: number): Promise<number> {
  const TERM = Buffer.from('\r\n.\r\n');
  return new Promise((resolve, reject) => {
    if (n === 0 || buf.length > 0) return n === 0 ? resolve(0) : reject(new Error('unexpected bytes before RETR'));
    let i = 1;
    let bytes = 0;
    let cur: Buffer = Buffer.alloc(0);
    sock.removeAllListeners('data');
    const onData = (d: Buffer) => {
      const from = Math.max(0, cur.length - 4);
      cur = cur.length === 0 ? d : Buffer.concat([cur, d]);
      const end = cur.indexOf(TERM, from);
      if (end < 0) return;
      // "+OK <size> octets" CRLF <body> CRLF "." CRLF, and nothing after it (no pipelining)
      if (cur[0] !== 0x2b || cur[1] !== 0x4f || cur[2] !== 0x4b || end + TERM.length !== cur.length) {
        sock.off('data', onData);
        return reject(new Error(`RETR ${i} -> ${cur.toString('latin1', 0, Math.min(cur.length, 80))}`));
      }
      bytes += end + 2 - (cur.indexOf(0x0a) + 1);
      cur = Buffer.alloc(0);
      if (++i > n) {
        sock.off('data', onData);
        sock.on('data', onLineData);
        return resolve(bytes);
      }
      sock.write(`RETR ${i}\r\n`);
    };
    sock.on('data', onData);
    sock.write('RETR 1\r\n');
  });
}

try {
  await new Promise((r) => sock.once('connect', r));
  const t0 = performance.now();
  await cmd(null);
  await cmd(`USER ${user}`);
  await cmd(`PASS ${pass}`);
  const t1 = performance.now();
  const stat = (await cmd('STAT')).l.split(' ');
  const n = Number(stat[1]);
  const list = (await cmd('LIST', true)).b!.toString('latin1').split('\r\n').filter(Boolean);
  const uidl = (await cmd('UIDL', true)).b!.toString('latin1').split('\r\n').filter(Boolean);
  const t2 = performance.now();
  const c2 = process.cpuUsage();
  const bytes = await retrAll(n);
  const t3 = performance.now();
  const c3 = process.cpuUsage(c2);
  await cmd('QUIT');
  sock.end();
  const t4 = performance.now();
  if (list.length !== n || uidl.length !== n) throw new Error(`LIST/UIDL count mismatch ${list.length}/${uidl.length} vs ${n}`);
  process.stdout.write(
    JSON.stringify({
      messages: n,
      octets: Number(stat[2]),
      bytes_retr: bytes,
      login_ms: +(t1 - t0).toFixed(1),
      stat_list_uidl_ms: +(t2 - t1).toFixed(1),
      retr_s: +((t3 - t2) / 1000).toFixed(3),
      // the client's own CPU during the RETRs: the part of each round trip that is not the server's
      client_retr_cpu_ms: Math.round((c3.user + c3.system) / 1000),
      total_s: +((t4 - t0) / 1000).toFixed(3),
      msgs_per_s: Math.round(n / ((t4 - t0) / 1000)),
    }) + '\n',
  );
  process.exit(0);
} catch (e) {
  fail((e as Error).message);
}
