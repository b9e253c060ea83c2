// Bounded SMTP load client (raw node:net): N messages of ~SIZE bytes over C connections, each
// acknowledged with 250 before the next one on that connection. Adapted from the recipe that
// measured the anchors. Usage: node smtp-load.mjs PORT N C SIZE RCPT [HOST]
// Env: PIPELINE=1 pipelines MAIL/RCPT/DATA; TIMEOUT_MS hard bound; FROM the sender (MAIL FROM and
// From:, default load@client.test); HELO the EHLO name (default load.client.test). Prints one JSON
// line; exit 1 on failure.
import net from 'node:net';
const [port, N = 2000, C = 10, SIZE = 2048] = process.argv.slice(2, 6).map(Number);
const rcpt = process.argv[6],
  host = process.argv[7] || '127.0.0.1';
if (!port || !rcpt) {
  console.error('usage: node smtp-load.mjs PORT N C SIZE RCPT [HOST]');
  process.exit(2);
}
const FROM = process.env.FROM || 'load@client.test';
const HELO = process.env.HELO || 'load.client.test';
const PIPE = process.env.PIPELINE === '1',
  TIMEOUT = Number(process.env.TIMEOUT_MS || 180000);
const hard = setTimeout(() => {
  console.log(JSON.stringify({ port, n: N, ok, fail, error: 'timeout' }));
  process.exit(1);
}, TIMEOUT);

function makeMsg(i) {
  const hdr =
    `From: Load Tester <${FROM}>\r\nTo: <${rcpt}>\r\nSubject: load message ${i}\r\n` +
    `Date: ${new Date().toUTCString()}\r\nMessage-ID: <${Date.now()}.${i}.${process.pid}@client.test>\r\n` +
    `MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n`;
  const line = 'The quick brown fox jumps over the lazy dog 0123456789 abcdefghijklmnopqrstu.\r\n'; // 78 bytes
  let body = '';
  while (hdr.length + body.length + line.length <= SIZE - 2) body += line;
  body += '.leading dot line (dot-stuffed)\r\n'.slice(0, Math.max(0, SIZE - hdr.length - body.length - 2)).replace(/\r?\n?$/, '') + '\r\n';
  return (hdr + body).replace(/^\./gm, '..'); // dot-stuffing
}

let next = 0,
  ok = 0,
  fail = 0;
const t0 = process.hrtime.bigint();
function conn(id) {
  return new Promise((resolve) => {
    const s = net.connect(port, host);
    s.setNoDelay(true);
    let buf = '',
      lines = [],
      waiters = [];
    const pushResp = (r) => {
      const w = waiters.shift();
      if (w) w(r);
      else lines.push(r);
    };
    let cur = [];
    s.on('data', (d) => {
      buf += d.toString('latin1');
      let i;
      while ((i = buf.indexOf('\r\n')) >= 0) {
        const l = buf.slice(0, i);
        buf = buf.slice(i + 2);
        cur.push(l);
        if (l[3] !== '-') {
          pushResp({ code: Number(l.slice(0, 3)), text: cur.join('\n') });
          cur = [];
        }
      }
    });
    const resp = () =>
      new Promise((res) => {
        if (lines.length) res(lines.shift());
        else waiters.push(res);
      });
    const die = (e) => {
      fail += 1;
      s.destroy();
      console.error(`conn ${id}: ${e}`);
      resolve();
    };
    s.on('error', (e) => die(e.message));
    s.on('close', () => {
      while (waiters.length) waiters.shift()({ code: 0, text: 'closed' });
    });
    const expect = async (code) => {
      const r = await resp();
      if (r.code !== code) throw new Error(`expected ${code} got ${r.text}`);
      return r;
    };
    (async () => {
      await expect(220);
      s.write(`EHLO ${HELO}\r\n`);
      await expect(250);
      while (next < N) {
        const i = next++;
        const msg = makeMsg(i);
        if (PIPE) {
          s.write(`MAIL FROM:<${FROM}>\r\nRCPT TO:<${rcpt}>\r\nDATA\r\n`);
          await expect(250);
          await expect(250);
          await expect(354);
        } else {
          s.write(`MAIL FROM:<${FROM}>\r\n`);
          await expect(250);
          s.write(`RCPT TO:<${rcpt}>\r\n`);
          await expect(250);
          s.write('DATA\r\n');
          await expect(354);
        }
        s.write(msg + '.\r\n');
        await expect(250);
        ok++;
      }
      s.write('QUIT\r\n');
      await resp();
      s.end();
      resolve();
    })().catch((e) => die(e.message));
  });
}
await Promise.all(Array.from({ length: C }, (_, k) => conn(k)));
clearTimeout(hard);
const sec = Number(process.hrtime.bigint() - t0) / 1e9;
console.log(JSON.stringify({ port, n: N, conc: C, size: SIZE, pipeline: PIPE, ok, fail, seconds: +sec.toFixed(3), msgs_per_s: +(ok / sec).toFixed(1) }));
process.exit(fail ? 1 : 0);
