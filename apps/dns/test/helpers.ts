// Shared pieces of the DNS tests: a scenario isolated from the user's environment, the server on
// 127.0.0.1 port 0, a client over UDP or TCP that decodes with dns-packet, and a local upstream
// stub (never a real resolver) for the forwarding tests.
import dgram from 'node:dgram';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import dnsPacket from 'dns-packet';
import { afterAll } from 'vitest';
import type { Logger } from '@sstt/runtime';
import { loadScenario, type Scenario } from '@sstt/scenario';
import { rawTcp, run, startServer, tempDir, udpExchange } from '@sstt/testkit';
import { createDnsServer, type DnsServerOptions } from '../src/server.ts';
import { buildQuery } from './reference/client.ts';

export type Transport = 'udp' | 'tcp';

// The directories of every scenario a test file made, removed when the file's tests end (vitest
// loads this module again for each file, so the hook belongs to the file that imported it).
const scenarioDirs: Array<{ remove(): void }> = [];
afterAll(() => {
  for (const d of scenarioDirs.splice(0)) d.remove();
});

export function testScenario(extraEnv: Record<string, string> = {}): Scenario {
  const certs = tempDir('sstt-dns-certs-');
  const data = tempDir('sstt-dns-data-');
  scenarioDirs.push(certs, data);
  return loadScenario({
    env: { SSTT_CERTS_DIR: certs.dir, SSTT_DATA_DIR: data.dir, ...extraEnv },
    flags: {},
    configFile: undefined,
    resolvConfPath: '/nonexistent/resolv.conf',
  });
}

/** A logger that keeps every line, for checking what the server reported. */
export function memoryLogger(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const put = (level: string) => (obj: unknown, msg?: string) => {
    lines.push(`${level}: ${typeof obj === 'string' ? obj : (msg ?? '')} ${typeof obj === 'object' ? JSON.stringify(obj) : ''}`);
  };
  const log = { info: put('info'), warn: put('warn'), error: put('error'), debug: put('debug'), trace: put('trace'), fatal: put('fatal') } as Record<
    string,
    unknown
  >;
  log.child = () => log;
  return { log: log as unknown as Logger, lines };
}

/**
 * The app itself (src/main.ts) started with `flags(taken)`, where `taken` is a UDP port this test
 * holds: its exit status and the last line it wrote to stderr.
 */
export async function mainWithTakenPort(
  s: Scenario,
  flags: (taken: number) => string[],
): Promise<{ taken: number; code: number | null; lastLine: string | undefined }> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const taken = sock.address().port;
  const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
  try {
    const r = await run(process.execPath, ['--import', 'tsx', main, '--listen', '127.0.0.1', ...flags(taken)], {
      cwd: path.dirname(main),
      env: { ...process.env, SSTT_CERTS_DIR: s.paths.certs, SSTT_DATA_DIR: s.paths.data, SSTT_DNS_FORWARDERS: '127.0.0.1:9' },
      timeoutMs: 20_000,
    });
    return { taken, code: r.code, lastLine: r.stderr.trim().split('\n').at(-1) };
  } finally {
    sock.close();
  }
}

export async function startDns(opts: Partial<DnsServerOptions> & { scenario?: Scenario } = {}) {
  const scenario = opts.scenario ?? testScenario();
  const server = createDnsServer({ host: '127.0.0.1', port: 0, forwarders: [], ...opts, scenario });
  const started = await startServer(server);
  return { ...started, scenario };
}

export interface Ask {
  name: string;
  type?: dnsPacket.RecordType | 'ANY';
  id?: number;
  rd?: boolean;
  /** EDNS UDP size; undefined: no OPT record. */
  edns?: number;
  ednsVersion?: number;
  dnssecOk?: boolean;
  opcode?: number;
}

export function encodeQuery(a: Ask): Buffer {
  return buildQuery({ label: a.name, ...a, type: a.type ?? 'A' }, a.id ?? 0x1234);
}

/** Sends one raw message; resolves the raw reply (null: no reply within the timeout). */
export async function exchange(
  transport: Transport,
  port: number,
  msg: Buffer,
  opts: { localAddress?: string; timeoutMs?: number } = {},
): Promise<Buffer | null> {
  if (transport === 'udp')
    return udpExchange(port, msg, { timeoutMs: opts.timeoutMs ?? 2000, ...(opts.localAddress ? { localAddress: opts.localAddress } : {}) });
  const c = await rawTcp(port, '127.0.0.1', opts.localAddress);
  try {
    const framed = Buffer.alloc(msg.length + 2);
    framed.writeUInt16BE(msg.length);
    msg.copy(framed, 2);
    c.write(framed);
    const len = (await c.readBytes(2, opts.timeoutMs ?? 2000)).readUInt16BE(0);
    return await c.readBytes(len, opts.timeoutMs ?? 2000);
  } catch {
    return null;
  } finally {
    c.destroy();
  }
}

export async function ask(
  transport: Transport,
  port: number,
  a: Ask,
  opts: { localAddress?: string } = {},
): Promise<dnsPacket.DecodedPacket & { raw: Buffer }> {
  const raw = await exchange(transport, port, encodeQuery(a), opts);
  if (!raw) throw new Error(`no reply to ${a.name} ${a.type ?? 'A'} over ${transport}`);
  return { ...dnsPacket.decode(raw), raw };
}

/** "name TYPE data" lines of a section, the way a test states expectations. */
export function rrs(section: dnsPacket.Answer[] | undefined): string[] {
  return (section ?? []).filter((r) => r.type !== 'OPT').map((r) => `${r.name} ${(r as { ttl?: number }).ttl} ${r.type} ${show(r)}`);
}

function show(r: dnsPacket.Answer): string {
  const d = (r as { data: unknown }).data;
  if (r.type === 'MX') return `${(d as dnsPacket.MxData).preference} ${(d as dnsPacket.MxData).exchange}`;
  if (r.type === 'SRV') {
    const s = d as dnsPacket.SrvData;
    return `${s.priority} ${s.weight} ${s.port} ${s.target}`;
  }
  if (r.type === 'SOA') {
    const s = d as dnsPacket.SoaData;
    return `${s.mname} ${s.rname} ${s.serial} ${s.refresh} ${s.retry} ${s.expire} ${s.minimum}`;
  }
  if (r.type === 'TXT') return (d as Buffer[]).map((b) => JSON.stringify(b.toString())).join(' ');
  return String(d);
}

export function rcode(p: dnsPacket.DecodedPacket): string {
  return (p as { rcode?: string }).rcode ?? 'NOERROR';
}

/** Header flags as dig prints them. */
export function flags(p: dnsPacket.DecodedPacket): string {
  const f = p.flags ?? 0;
  const out: string[] = [];
  if (p.type === 'response') out.push('qr');
  if (f & dnsPacket.AUTHORITATIVE_ANSWER) out.push('aa');
  if (f & dnsPacket.TRUNCATED_RESPONSE) out.push('tc');
  if (f & dnsPacket.RECURSION_DESIRED) out.push('rd');
  if (f & dnsPacket.RECURSION_AVAILABLE) out.push('ra');
  return out.join(' ');
}

export function opt(p: dnsPacket.DecodedPacket): { udpPayloadSize: number; extendedRcode: number; ednsVersion: number; flags: number } | undefined {
  return (p.additionals ?? []).find((r) => r.type === 'OPT') as never;
}

export interface StubAnswer {
  rcode?: number;
  answers?: dnsPacket.Answer[];
  authorities?: dnsPacket.Answer[];
  additionals?: dnsPacket.Answer[];
  /** Answer over UDP with TC and no records (the full answer only over TCP). */
  truncateUdp?: boolean;
  /** Do not answer at all. */
  silent?: boolean;
  /** First send a reply with the wrong ID (a spoofing attempt), then the right one. */
  spoofFirst?: boolean;
  delayMs?: number;
}

/**
 * A tiny upstream resolver on 127.0.0.1 (UDP and TCP on one port) answering fixed records by
 * "name TYPE" (lower case); counts the queries it got.
 */
export async function startStub(table: (name: string, type: string) => StubAnswer | undefined) {
  const seen: Array<{ name: string; type: string; transport: Transport; rd: boolean; id: number; port: number }> = [];
  const reply = (q: dnsPacket.DecodedPacket, transport: Transport): { buf: Buffer; spoof?: Buffer; delayMs: number } | undefined => {
    const question = q.questions![0]!;
    const spec = table(question.name.toLowerCase(), question.type);
    if (!spec || spec.silent) return undefined;
    const truncated = transport === 'udp' && spec.truncateUdp;
    const make = (id: number) =>
      dnsPacket.encode({
        type: 'response',
        id,
        flags: dnsPacket.RECURSION_AVAILABLE | dnsPacket.RECURSION_DESIRED | (truncated ? dnsPacket.TRUNCATED_RESPONSE : 0) | (spec.rcode ?? 0),
        questions: q.questions!,
        answers: truncated ? [] : (spec.answers ?? []),
        authorities: truncated ? [] : (spec.authorities ?? []),
        additionals: truncated ? [] : (spec.additionals ?? []),
      });
    return { buf: make(q.id!), ...(spec.spoofFirst ? { spoof: make((q.id! + 1) & 0xffff) } : {}), delayMs: spec.delayMs ?? 0 };
  };
  const onUdp = (udp: dgram.Socket) => (msg: Buffer, rinfo: dgram.RemoteInfo) => {
    const q = dnsPacket.decode(msg);
    seen.push({
      name: q.questions![0]!.name,
      type: q.questions![0]!.type,
      transport: 'udp',
      rd: Boolean((q.flags ?? 0) & dnsPacket.RECURSION_DESIRED),
      id: q.id!,
      port: rinfo.port,
    });
    const r = reply(q, 'udp');
    if (!r) return;
    setTimeout(() => {
      if (r.spoof) udp.send(r.spoof, rinfo.port, rinfo.address);
      udp.send(r.buf, rinfo.port, rinfo.address);
    }, r.delayMs);
  };
  const tcp = net.createServer((sock) => {
    let buf = Buffer.alloc(0);
    sock.on('error', () => {});
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + msg.length);
        const q = dnsPacket.decode(msg);
        seen.push({
          name: q.questions![0]!.name,
          type: q.questions![0]!.type,
          transport: 'tcp',
          rd: Boolean((q.flags ?? 0) & dnsPacket.RECURSION_DESIRED),
          id: q.id!,
          port: 0,
        });
        const r = reply(q, 'tcp');
        if (!r) continue;
        const framed = Buffer.alloc(r.buf.length + 2);
        framed.writeUInt16BE(r.buf.length);
        r.buf.copy(framed, 2);
        sock.write(framed);
      }
    });
  });
  // UDP and TCP on one port: take a UDP port, then the same for TCP; start over if it is taken.
  let udp: dgram.Socket;
  let port = 0;
  for (;;) {
    udp = dgram.createSocket('udp4');
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
    port = (udp.address() as AddressInfo).port;
    const ok = await new Promise<boolean>((r) => {
      tcp.once('error', () => r(false));
      tcp.listen(port, '127.0.0.1', () => r(true));
    });
    if (ok) break;
    udp.close();
  }
  udp.on('message', onUdp(udp));
  return {
    port,
    endpoint: { host: '127.0.0.1', port },
    seen,
    close: async () => {
      udp.close();
      await new Promise<void>((r) => tcp.close(() => r()));
    },
  };
}

/** A UDP socket that never answers: a dead forwarder. */
export async function startSilent() {
  const udp = dgram.createSocket('udp4');
  let got = 0;
  udp.on('message', () => got++);
  await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
  return { endpoint: { host: '127.0.0.1', port: (udp.address() as AddressInfo).port }, received: () => got, close: () => udp.close() };
}
