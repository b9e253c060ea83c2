// A client that sends many pipelined requests and never reads the answers, run in its own
// process so that the test process's memory is the server's alone.
// Usage: node no-reader.mjs <tcp|tls> <port> <count>; the request in $REQUEST, TLS options in
// $TLS_OPTIONS (JSON, PEM strings). Prints "sent" once everything is written, exits on stdin EOF.
import net from 'node:net';
import tls from 'node:tls';

const [kind, port, count] = process.argv.slice(2);
const request = process.env.REQUEST ?? '';
const options = JSON.parse(process.env.TLS_OPTIONS ?? '{}');
const socket = kind === 'tls' ? tls.connect({ port: Number(port), host: '127.0.0.1', ...options }) : net.connect(Number(port), '127.0.0.1');
socket.on('error', (e) => {
  process.stdout.write(`error ${e.message}\n`);
});
socket.once(kind === 'tls' ? 'secureConnect' : 'connect', () => {
  socket.pause();
  const batch = 1000;
  let left = Number(count);
  while (left > 0) {
    const n = Math.min(batch, left);
    socket.write(request.repeat(n));
    left -= n;
  }
  process.stdout.write('sent\n');
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
