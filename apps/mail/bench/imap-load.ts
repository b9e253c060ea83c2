// IMAP load: LOGIN, the first SELECT INBOX (timed), UID SEARCH (timed), FETCH 1:* BODY.PEEK[] on
// one connection (every message's full body, timed), then IDLE and a delivery into the Maildir's
// new/ (the latency to the EXISTS). Prints one JSON line.
// Usage: tsx bench/imap-load.ts <port> <user> <password> <maildir>   Env: TIMEOUT_MS (120000), PHASE=all|select
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

const [portArg, user, pass, maildir] = process.argv.slice(2);
const timeout = Number(process.env.TIMEOUT_MS ?? 120_000);
setTimeout(() => fail(`timeout waiting for ${waitingFor} with ${JSON.stringify(chunks.join('').slice(-300))}`), timeout).unref();
let waitingFor = '';

function fail(error: string): never {
  process.stdout.write(`${JSON.stringify({ error })}\n`);
  process.exit(1);
}

const sock = net.connect(Number(portArg), '127.0.0.1');
sock.setNoDelay(true);
/** What has arrived and not been taken: chunks, joined only when a reply is complete. */
let chunks: string[] = [];
let wake: (() => void) | undefined;
sock.setEncoding('latin1');
sock.on('data', (d: string) => {
  chunks.push(d);
  wake?.();
});
sock.on('error', (e) => fail(e.message));
sock.on('close', () => wake?.());

/**
 * Waits for `re` in what has arrived; returns what came up to the end of the match, and keeps the
 * rest. Each arriving chunk is looked at with the LOOK_BACK characters before it (a match is one
 * line), so a 4 MB FETCH reply is scanned and copied once, not once per chunk: a quadratic client
 * would be part of what the benchmark times. `needle`, a text every match contains (a command's
 * tag), is looked for first (String#indexOf, a native search) and the regular expression run only
 * on a window that has it: a pattern without a literal first character is tried at every position
 * of the 4 MB, which cost the load more CPU than the servers spent on the FETCH.
 */
const LOOK_BACK = 256;
function until(re: RegExp, needle?: string): Promise<string> {
  let seen = 0;
  waitingFor = String(re);
  let tail = '';
  return new Promise((resolve) => {
    const check = () => {
      for (; seen < chunks.length; seen++) {
        const window = tail + chunks[seen]!;
        const m = needle === undefined || window.includes(needle) ? re.exec(window) : null;
        if (m) {
          const all = chunks.slice(0, seen).join('') + chunks[seen]!;
          const end = all.length - window.length + m.index + m[0].length;
          wake = undefined;
          chunks = [...(end < all.length ? [all.slice(end)] : []), ...chunks.slice(seen + 1)];
          resolve(all.slice(0, end));
          return;
        }
        tail = window.slice(-LOOK_BACK);
      }
      if (sock.destroyed) fail(`connection closed waiting for ${re}`);
      else wake = check;
    };
    check();
  });
}

let n = 0;
async function cmd(text: string): Promise<{ reply: string; ms: number }> {
  const tag = `b${++n}`;
  const t0 = performance.now();
  sock.write(`${tag} ${text}\r\n`);
  const reply = await until(new RegExp(`(^|\\r\\n)${tag} (OK|NO|BAD)[^\\r]*\\r\\n`), `${tag} `);
  const ms = performance.now() - t0;
  if (!new RegExp(`${tag} OK`).test(reply)) fail(`${text}: ${reply.slice(-200)}`);
  return { reply, ms };
}

await until(/\r\n/);
await cmd(`LOGIN "${user}" "${pass}"`);
const sel = await cmd('SELECT INBOX');
const messages = Number(/\* (\d+) EXISTS/.exec(sel.reply)?.[1] ?? 0);
const search = await cmd('UID SEARCH SEEN');
if (process.env.PHASE === 'select') {
  process.stdout.write(`${JSON.stringify({ messages, select_ms: Math.round(sel.ms), uid_search_ms: Math.round(search.ms) })}\n`);
  process.exit(0);
}
const cpu0 = process.cpuUsage();
const f = await cmd('FETCH 1:* BODY.PEEK[]');
// The load's own CPU during the FETCH: near the FETCH's wall time, the client is the ceiling.
const cpu = process.cpuUsage(cpu0);
const bytes = f.reply.length;
// IDLE, then a delivery as an MDA makes it (tmp/ then rename into new/): the time to "* n EXISTS".
sock.write('i IDLE\r\n');
await until(/\+ [^\r]*\r\n/);
const name = `${Math.floor(Date.now() / 1000)}.M1P${process.pid}.idlebench`;
fs.writeFileSync(path.join(maildir!, 'tmp', name), 'Subject: idle bench\r\n\r\nhello\r\n');
const t0 = performance.now();
fs.renameSync(path.join(maildir!, 'tmp', name), path.join(maildir!, 'new', name));
await until(new RegExp(`\\* ${messages + 1} EXISTS\\r\\n`));
const idleMs = performance.now() - t0;
sock.write('DONE\r\n');
await until(/i OK[^\r]*\r\n/);
await cmd('LOGOUT').catch(() => undefined);
process.stdout.write(
  `${JSON.stringify({
    messages,
    select_ms: Math.round(sel.ms),
    uid_search_ms: Math.round(search.ms),
    fetch_ms: Math.round(f.ms),
    msgs_per_s: Math.round((messages / f.ms) * 1000),
    fetch_bytes: bytes,
    client_cpu_ms: Math.round((cpu.user + cpu.system) / 1000),
    idle_exists_ms: Math.round(idleMs * 10) / 10,
  })}\n`,
);
sock.destroy();
