// An attacker that holds many connections, run in its own process so that the server's event
// loop and memory are not the attacker's. Options as JSON in argv[2]:
//   port, count, localAddress (e.g. 127.0.0.2), mode: 'head' (slowloris: a request head that
//   never ends, a header line every trickleMs) or 'idle' (connect and send nothing),
//   reconnect: open a new connection reconnectDelayMs after one is cut (as slowloris does),
//   tls: connection options (PEM strings) to complete a TLS handshake first (session reused).
// Prints "ready <n>" once `count` connections have been established (in batches, so the listen
// backlog does not overflow), then on stdin EOF prints the JSON of its counts and exits.
import net from 'node:net';
import tls from 'node:tls';

const o = JSON.parse(process.argv[2]);
const trickleMs = o.trickleMs ?? 1000;
const reconnectDelayMs = o.reconnectDelayMs ?? 1000;
const BATCH = 100;
const sockets = new Set();
let stopped = false;
let session;
const counts = { connects: 0, established: 0, cut: 0, errors: 0 };

function open() {
  return new Promise((resolve) => {
    counts.connects++;
    const common = { port: o.port, host: '127.0.0.1', localAddress: o.localAddress };
    const s = o.tls ? tls.connect({ ...common, ...o.tls, ...(session ? { session } : {}) }) : net.connect(common);
    sockets.add(s);
    let timer;
    let done = false;
    const settle = () => {
      if (!done) {
        done = true;
        resolve();
      }
    };
    s.on(o.tls ? 'secureConnect' : 'connect', () => {
      counts.established++;
      settle();
      if (o.mode === 'head') {
        s.write('GET / HTTP/1.1\r\nHost: x\r\n');
        timer = setInterval(() => s.write('X-a: b\r\n'), trickleMs);
        timer.unref();
      }
    });
    if (o.tls) s.on('session', (sess) => (session = sess));
    // Whatever the server says (408, 503) means it cut us: drop the connection.
    s.on('data', () => s.destroy());
    s.on('end', () => s.destroy());
    s.on('error', () => counts.errors++);
    s.on('close', () => {
      clearInterval(timer);
      sockets.delete(s);
      settle();
      if (stopped) return;
      counts.cut++;
      if (o.reconnect) setTimeout(() => !stopped && open(), reconnectDelayMs).unref();
    });
  });
}

for (let i = 0; i < o.count; i += BATCH) {
  await Promise.all(Array.from({ length: Math.min(BATCH, o.count - i) }, open));
}
process.stdout.write(`ready ${counts.established}\n`);

process.stdin.on('end', () => {
  stopped = true;
  const open = sockets.size;
  for (const s of sockets) s.destroy();
  process.stdout.write(`${JSON.stringify({ ...counts, open })}\n`);
  process.exit(0);
});
process.stdin.resume();
