// TCP framing and limits (RFC 7766), listening on one port for UDP and TCP, closing.
import dgram from 'node:dgram';
import dnsPacket from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ListenError } from '@sstt/runtime';
import { rawTcp } from '@sstt/testkit';
import { createDnsServer } from '../src/server.ts';
import { parseUdpTransport, udpTransport, type UdpTransport } from '../src/udp.ts';
import { ask, encodeQuery, memoryLogger, rcode, startDns, startStub, testScenario, type Ask } from './helpers.ts';

const s = testScenario();
const d = s.domain;

function frame(msg: Buffer): Buffer {
  const b = Buffer.alloc(msg.length + 2);
  b.writeUInt16BE(msg.length);
  msg.copy(b, 2);
  return b;
}

async function readReply(c: Awaited<ReturnType<typeof rawTcp>>): Promise<dnsPacket.DecodedPacket> {
  const len = (await c.readBytes(2)).readUInt16BE(0);
  return dnsPacket.decode(await c.readBytes(len));
}

let port = 0;
let limited = 0;
const closers: Array<() => Promise<void>> = [];

beforeAll(async () => {
  const a = await startDns({ scenario: s });
  port = a.port;
  const b = await startDns({ scenario: s, tcpIdleTimeoutMs: 300, maxTcpQueries: 3 });
  limited = b.port;
  closers.push(a.close, b.close);
});

afterAll(async () => {
  for (const c of closers) await c();
});

describe('TCP', () => {
  it('pipelined queries in one write are all answered on the same connection', async () => {
    const c = await rawTcp(port);
    const names = ['www', 'smtp', 'pop', 'nope'].map((l) => `${l}.${d}`);
    c.write(Buffer.concat(names.map((name, i) => frame(encodeQuery({ name, id: 100 + i })))));
    const replies = [];
    for (let i = 0; i < names.length; i++) replies.push(await readReply(c));
    expect(replies.map((r) => r.id).sort()).toEqual([100, 101, 102, 103]);
    expect(rcode(replies.find((r) => r.id === 103)!)).toBe('NXDOMAIN');
    expect(c.isClosed()).toBe(false);
    c.destroy();
  });

  it('a query split byte by byte (framing apart from the data events)', async () => {
    const c = await rawTcp(port);
    const bytes = frame(encodeQuery({ name: `www.${d}`, id: 77 }));
    for (const b of bytes) {
      c.write(Buffer.from([b]));
      await new Promise((r) => setImmediate(r));
    }
    const r = await readReply(c);
    expect(r.id).toBe(77);
    expect(r.answers!.length).toBe(1);
    c.destroy();
  });

  it('an idle connection is closed after the idle timeout', async () => {
    const c = await rawTcp(limited);
    c.write(frame(encodeQuery({ name: `www.${d}` })));
    await readReply(c);
    const started = Date.now();
    await c.readToEnd(3000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });

  it('the connection closes after the query cap, answering every query it read', async () => {
    const c = await rawTcp(limited);
    c.write(Buffer.concat([1, 2, 3, 4].map((i) => frame(encodeQuery({ name: `www.${d}`, id: i })))));
    const ids = [];
    // The cap (3) is reached inside one read of four queries: all four are answered (RFC 7766 §6.2.1.1).
    for (let i = 0; i < 4; i++) ids.push((await readReply(c)).id);
    expect(ids.sort()).toEqual([1, 2, 3, 4]);
    expect((await c.readToEnd(2000)).length).toBe(0);
  });

  it('a frame shorter than a header gets nothing; the next query is still answered', async () => {
    const c = await rawTcp(port);
    c.write(Buffer.concat([frame(Buffer.from([1, 2, 3])), frame(encodeQuery({ name: `www.${d}`, id: 9 }))]));
    expect((await readReply(c)).id).toBe(9);
    c.destroy();
  });
});

describe('listening', () => {
  it('port 0: UDP and TCP on the same port', async () => {
    const srv = createDnsServer({ scenario: s, host: '127.0.0.1', port: 0, forwarders: [] });
    const [u, t] = await srv.listen();
    expect(u!.port).toBe(t!.port);
    expect(u!.port).toBeGreaterThan(0);
    await srv.close();
  });

  it('UDP goes through the batching addon here; udp_wrap and node:dgram (the udpTransport option) answer byte for byte the same', async () => {
    expect(udpTransport()).toBe('batch');
    // main.ts's reading of SSTT_DNS_UDP: the three names, nothing else.
    expect(['batch', 'wrap', 'dgram', 'fast', '', undefined].map(parseUdpTransport)).toEqual(['batch', 'wrap', 'dgram', undefined, undefined, undefined]);
    const stub = await startStub((name) =>
      name === 'far.example.test' ? { answers: [{ type: 'A', name, ttl: 60, class: 'IN', data: '10.7.7.7' }] } : undefined,
    );
    const queries: Ask[] = [
      { name: `www.${d}` },
      { name: `${d}`, type: 'MX', edns: 1232 },
      { name: `WwW.${d}`, type: 'AAAA' },
      { name: `nonexistent.${d}`, edns: 4096 },
      { name: 'far.example.test' },
    ];
    const answers = async (transport: UdpTransport) => {
      const { log, lines } = memoryLogger();
      const srv = await startDns({ scenario: s, forwarders: [stub.endpoint], udpTransport: transport, log });
      try {
        // The server says which transport it bound.
        expect(lines.find((l) => l.includes('dns listening'))).toContain(`"udpTransport":"${transport}"`);
        const raws: string[] = [];
        for (const q of queries) raws.push((await ask('udp', srv.port, q)).raw.toString('hex'));
        return raws;
      } finally {
        await srv.close();
      }
    };
    try {
      const batch = await answers('batch');
      expect(dnsPacket.decode(Buffer.from(batch[4]!, 'hex')).answers![0]).toMatchObject({ data: '10.7.7.7' });
      expect(await answers('wrap')).toEqual(batch);
      expect(await answers('dgram')).toEqual(batch);
    } finally {
      await stub.close();
    }
  });

  it('a taken port is a ListenError naming the service and port', async () => {
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    const taken = sock.address().port;
    const srv = createDnsServer({ scenario: s, host: '127.0.0.1', port: taken, forwarders: [] });
    const err = await srv.listen().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ListenError);
    expect((err as Error).message).toBe(
      `dns: port ${taken} on 127.0.0.1 is already taken; change it with --dns-port or SSTT_DNS_PORT (or ports.dns in sstt.config.json)`,
    );
    sock.close();
  });

  it('close() ends open TCP connections and stops answering', async () => {
    const srv = await startDns({ scenario: s });
    const c = await rawTcp(srv.port);
    await srv.close();
    await c.readToEnd(3000);
    expect(c.isClosed()).toBe(true);
  });
});
