// Readiness from the kernel's socket tables: real sockets of this process and of a process in
// another network namespace, read back from /proc; the wait resolving only after the socket
// exists, naming the services that never came up, stopping at once when the program ended.
import dgram from 'node:dgram';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type DeclaredSocket, inOtherNetns, listeningSockets, notListening, requireTool, waitForSockets } from '../src/index.ts';
import { freePort, spawnWatched } from '@sstt/testkit';

const closers: Array<() => void> = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

async function tcpServer(host: string): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, host, r));
  closers.push(() => srv.close());
  return (srv.address() as net.AddressInfo).port;
}

async function udpSocket(host: string): Promise<number> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, host, r));
  closers.push(() => sock.close());
  return sock.address().port;
}

describe('listeningSockets', () => {
  it('reads TCP listeners and bound UDP sockets, IPv4 and IPv6, from the tables of a process', async () => {
    const tcp = await tcpServer('127.0.0.1');
    const tcp6 = await tcpServer('::1');
    const udp = await udpSocket('127.0.0.1');
    const open = listeningSockets(process.pid)!;
    expect(open).toContainEqual({ transport: 'tcp', address: '127.0.0.1', port: tcp });
    expect(open).toContainEqual({ transport: 'tcp', address: '::1', port: tcp6 });
    expect(open).toContainEqual({ transport: 'udp', address: '127.0.0.1', port: udp });
    // A connection to the listener is not a listener.
    const client = net.connect(tcp, '127.0.0.1');
    await new Promise((r) => client.once('connect', r));
    closers.push(() => client.destroy());
    expect(listeningSockets(process.pid)!.filter((s) => s.port === client.localPort)).toEqual([]);
  });

  it('answers undefined for a process that is gone', async () => {
    const p = spawnWatched(process.execPath, ['-e', '']);
    await p.exited;
    expect(listeningSockets(p.child.pid!)).toBeUndefined();
  });

  it('a wildcard listener serves every address; another port or transport does not', () => {
    const want: DeclaredSocket = { service: 'dns', transport: 'udp', address: '10.0.0.1', port: 53 };
    expect(notListening([want], [{ transport: 'udp', address: '0.0.0.0', port: 53 }])).toEqual([]);
    expect(notListening([want], [{ transport: 'udp', address: '::', port: 53 }])).toEqual([]);
    expect(notListening([want], [{ transport: 'udp', address: '10.0.0.1', port: 53 }])).toEqual([]);
    expect(notListening([want], [{ transport: 'tcp', address: '10.0.0.1', port: 53 }])).toEqual([want]);
    expect(notListening([want], [{ transport: 'udp', address: '10.0.0.2', port: 53 }])).toEqual([want]);
    expect(notListening([want], [{ transport: 'udp', address: '10.0.0.1', port: 54 }])).toEqual([want]);
  });

  it("reads another network namespace's tables through a process in it, not this one's", async () => {
    const port = await freePort();
    // As root a plain network namespace; otherwise one inside a user namespace of our own.
    const unshare = process.getuid?.() === 0 ? ['-n'] : ['-r', '-n'];
    const script = `require('net').createServer().listen(${port}, '127.0.0.1', () => console.log('up'))`;
    const p = spawnWatched(requireTool('unshare'), [...unshare, process.execPath, '-e', script]);
    closers.push(() => p.child.kill());
    await p.waitFor(/up/, 30_000);
    const pid = p.child.pid!;
    expect(inOtherNetns(pid)).toBe(pid);
    expect(inOtherNetns(process.pid)).toBeUndefined();
    expect(listeningSockets(pid)).toContainEqual({ transport: 'tcp', address: '127.0.0.1', port });
    expect(listeningSockets(process.pid)!.filter((s) => s.port === port)).toEqual([]);
    await waitForSockets([{ service: 'web', transport: 'tcp', address: '127.0.0.1', port }], {
      what: 'web',
      pidIn: () => inOtherNetns(pid),
      timeoutMs: 30_000,
    });
  });
});

describe('waitForSockets', () => {
  it('resolves only once every declared socket listens', async () => {
    const port = await freePort();
    const udp = await udpSocket('127.0.0.1');
    const events: string[] = [];
    let looks = 0;
    const wait = waitForSockets(
      [
        { service: 'dns', transport: 'udp', address: '127.0.0.1', port: udp },
        { service: 'smtp', transport: 'tcp', address: '127.0.0.1', port },
      ],
      {
        what: 'the mail',
        pidIn: () => {
          looks++;
          return process.pid;
        },
        timeoutMs: 30_000,
        everyMs: 10,
      },
    ).then(() => events.push('ready'));
    while (looks < 3) await new Promise((r) => setTimeout(r, 5));
    events.push('listening');
    const srv = net.createServer().listen(port, '127.0.0.1');
    closers.push(() => srv.close());
    await wait;
    expect(events).toEqual(['listening', 'ready']);
  });

  it('after the time allowed, names the services that never came up', async () => {
    const port = await freePort();
    const udp = await udpSocket('127.0.0.1');
    const declared: DeclaredSocket[] = [
      { service: 'dns', transport: 'udp', address: '127.0.0.1', port: udp },
      { service: 'pop3s', transport: 'tcp', address: '127.0.0.1', port },
    ];
    await expect(waitForSockets(declared, { what: 'servidor: the domain', pidIn: () => process.pid, timeoutMs: 200, everyMs: 20 })).rejects.toThrow(
      new Error(`servidor: the domain: nothing listens on pop3s (tcp 127.0.0.1:${port}) after 0.2 s`),
    );
  });

  it('counts nothing while no process is in the namespace yet, though this namespace has the socket', async () => {
    const udp = await udpSocket('127.0.0.1');
    const declared: DeclaredSocket[] = [{ service: 'dns', transport: 'udp', address: '127.0.0.1', port: udp }];
    await expect(waitForSockets(declared, { what: 'exterior: dns', pidIn: () => undefined, timeoutMs: 100, everyMs: 20 })).rejects.toThrow(
      `exterior: dns: nothing listens on dns (udp 127.0.0.1:${udp}) after 0.1 s`,
    );
  });

  it('stops at once, with the reason, when the program ended', async () => {
    const port = await freePort();
    let looks = 0;
    const declared: DeclaredSocket[] = [{ service: 'http', transport: 'tcp', address: '127.0.0.1', port }];
    const gone = () => (looks >= 2 ? 'ended with exit code 2' : undefined);
    await expect(
      waitForSockets(declared, {
        what: 'servidor: the domain',
        pidIn: () => {
          looks++;
          return process.pid;
        },
        timeoutMs: 600_000,
        everyMs: 10,
        gone,
      }),
    ).rejects.toThrow(new Error(`servidor: the domain: ended with exit code 2 before listening on http (tcp 127.0.0.1:${port})`));
    expect(looks).toBe(2);
  });
});
