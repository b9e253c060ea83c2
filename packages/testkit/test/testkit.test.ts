import dgram from 'node:dgram';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePort, rawTcp, udpExchange } from '../src/index.ts';

describe('raw clients', () => {
  it('reads lines across arbitrary packet boundaries', async () => {
    const server = net.createServer((sock) => {
      sock.write('+OK hel');
      setImmediate(() => sock.end('lo\r\nsecond\r\nthird'));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const c = await rawTcp((server.address() as net.AddressInfo).port);
    expect(await c.readLine()).toBe('+OK hello\r\n');
    expect(await c.readUntil('\r\n')).toBe('second\r\n');
    expect((await c.readToEnd()).toString()).toBe('third');
    await expect(c.readLine(200)).rejects.toThrow(/closed/);
    server.close();
  });

  it('udpExchange answers null when nothing replies', async () => {
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    sock.on('message', (msg, rinfo) => {
      if (msg.toString() === 'ping') sock.send('pong', rinfo.port, rinfo.address);
    });
    const port = sock.address().port;
    expect((await udpExchange(port, Buffer.from('ping')))?.toString()).toBe('pong');
    expect(await udpExchange(port, Buffer.from('junk'), { timeoutMs: 200 })).toBeNull();
    sock.close();
  });
});

describe('spawnWatched', () => {
  it('waits for what a program prints, and says so when it ends without printing it', async () => {
    const { spawnWatched } = await import('../src/spawn-watched.ts');
    const p = spawnWatched('sh', ['-c', 'echo starting; sleep 0.1; echo ready >&2; sleep 0.2']);
    await p.waitFor(/ready/, 5_000);
    expect(p.output()).toBe('starting\nready\n');
    expect(await p.exited).toBe(0);
    const q = spawnWatched('sh', ['-c', 'echo nope; exit 3']);
    await expect(q.waitFor(/ready/, 5_000)).rejects.toThrow(/^sh ended \(3\) before printing \/ready\/; output:\nnope\n$/);
  });
});

describe('freePort', () => {
  it('is never a port that listen(0) hands out, and binds on TCP and UDP', async () => {
    const fs = await import('node:fs');
    const [lo, hi] = fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number) as [number, number];
    for (let i = 0; i < 20; i++) {
      const port = await freePort();
      expect(port < lo || port > hi, `${port} outside ${lo}-${hi}`).toBe(true);
      const tcp = net.createServer();
      await new Promise<void>((r) => tcp.listen(port, '127.0.0.1', r));
      const udp = dgram.createSocket('udp4');
      await new Promise<void>((r) => udp.bind(port, '127.0.0.1', r));
      await new Promise((r) => tcp.close(r));
      await new Promise((r) => udp.close(() => r(undefined)));
    }
  });
});
