// The floor of a Node UDP server on this machine: answers every datagram with the query itself,
// QR bit set (a valid, empty reply for dnsperf), with no DNS work at all. What our server
// reaches relative to this is what the DNS logic costs; what this reaches relative to BIND is
// what node:dgram itself costs. `--sync-lookup` gives dgram a lookup function that answers at
// once instead of dns.lookup's nextTick for every send.
// `--batch` uses the project's own UDP transport (@sstt/udp-batch: recvmmsg/sendmmsg, one JS call
// per batch) with the same echo: the floor under our server as `npm run dev` runs it.
// Usage: node --import tsx bench/floor.ts <port> [--sync-lookup | --batch]
import dgram from 'node:dgram';
import { bindBatch } from '@sstt/udp-batch';

const port = Number(process.argv[2]);
const syncLookup = process.argv.includes('--sync-lookup');
if (process.argv.includes('--batch')) {
  // The reply is the query's own view of the receive buffer: sent before the next recvmmsg.
  const sock = bindBatch('127.0.0.1', port, (msg) => {
    if (msg.length < 12) return null;
    msg[2] = msg[2]! | 0x80;
    return msg;
  });
  process.on('SIGTERM', () => sock.close().then(() => process.exit(0)));
} else {
  const sock = dgram.createSocket({
    type: 'udp4',
    ...(syncLookup ? { lookup: (address: string, _family: unknown, cb: (err: null, address: string, family: number) => void) => cb(null, address, 4) } : {}),
  } as dgram.SocketOptions);
  sock.on('message', (msg, rinfo) => {
    if (msg.length < 12) return;
    msg[2] = msg[2]! | 0x80;
    sock.send(msg, rinfo.port, rinfo.address);
  });
  sock.bind(port, '127.0.0.1');
  process.on('SIGTERM', () => sock.close(() => process.exit(0)));
}
