// Mail authentication tests' world: DNS as the mail app meets it, and the outside judges.
//
// - Our DNS app twice, on 127.0.0.1 port 0: the domain's (the scenario's zones, SPF, DKIM and
//   DMARC records included), which forwards every other name to a second one serving the test
//   zones from master files (the "world"); that one forwards to a UDP socket that never answers
//   (an unreachable forwarder: SERVFAIL, so SPF's temperror). No real resolver is ever asked.
// - The judges, Debian's: dkimpy's `dkimverify`/`dkimsign` (python3-dkim) and Mail::SPF's
//   `spfquery` (spf-tools-perl). Both read /etc/resolv.conf, whose port is always 53; rather than
//   change it, each gets our DNS through its own resolver's documented knobs: dnspython's default
//   resolver (nameservers, port) set by a sitecustomize module on PYTHONPATH, which Python imports
//   at start; Net::DNS's RES_NAMESERVERS and RES_OPTIONS=port:N environment variables.
import dgram from 'node:dgram';
import fs from 'node:fs';
import path from 'node:path';
import { createDnsServer } from '@sstt/dns';
import { silentLogger } from '@sstt/runtime';
import type { Scenario } from '@sstt/scenario';
import { requireTool, run, startServer, tempDir, type RunResult } from '@sstt/testkit';
import { afterAll } from 'vitest';

export interface AuthDns {
  /** The domain's DNS: what the mail app's resolver asks. */
  port: number;
  close(): Promise<void>;
}

/** How long our DNS waits for the dead forwarder before SERVFAIL (short: the tests wait for it). */
const FORWARD_TIMEOUT_MS = 300;

export async function startAuthDns(s: Scenario, zones: Array<{ origin: string; text: string }>): Promise<AuthDns> {
  const dir = tempDir('sstt-auth-dns-');
  const zoneFiles = zones.map((z) => {
    const file = path.join(dir.dir, `db.${z.origin}`);
    fs.writeFileSync(file, z.text);
    return { origin: z.origin, file };
  });
  const blackHole = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => blackHole.bind(0, '127.0.0.1', resolve));
  const dead = { host: '127.0.0.1', port: blackHole.address().port };
  const world = await startServer(
    createDnsServer({ scenario: s, host: '127.0.0.1', port: 0, zoneFiles, forwarders: [dead], forwardTimeoutMs: FORWARD_TIMEOUT_MS, log: silentLogger() }),
  );
  const ours = await startServer(
    createDnsServer({
      scenario: s,
      host: '127.0.0.1',
      port: 0,
      forwarders: [{ host: '127.0.0.1', port: world.port }],
      forwardTimeoutMs: 4 * FORWARD_TIMEOUT_MS,
      log: silentLogger(),
    }),
  );
  return {
    port: ours.port,
    close: async () => {
      await ours.close();
      await world.close();
      blackHole.close();
      dir.remove();
    },
  };
}

/** The Python that runs dkimpy's scripts (their shebang: Debian's python3, which has the dkim module). */
function dkimPython(): string {
  const first = fs.readFileSync(requireTool('dkimverify'), 'utf8').split('\n')[0]!;
  return first.replace(/^#!\s*/, '').split(/\s+/)[0]!;
}

let siteDir: string | undefined;
// Removed when the importing test file's tests end (vitest loads this module again for each file).
afterAll(() => {
  if (siteDir) fs.rmSync(siteDir, { recursive: true, force: true });
  siteDir = undefined;
});
/** A directory with a sitecustomize.py pointing dnspython's default resolver at SSTT_TEST_DNS_PORT on 127.0.0.1. */
function sitecustomize(): string {
  if (siteDir) return siteDir;
  siteDir = tempDir('sstt-dnspython-').dir;
  fs.writeFileSync(
    path.join(siteDir, 'sitecustomize.py'),
    [
      'import os',
      'import dns.resolver',
      '_r = dns.resolver.Resolver(configure=False)',
      "_r.nameservers = ['127.0.0.1']",
      "_r.port = int(os.environ['SSTT_TEST_DNS_PORT'])",
      'dns.resolver.default_resolver = _r',
      '',
    ].join('\n'),
  );
  return siteDir;
}

const pythonEnv = (dnsPort: number): NodeJS.ProcessEnv => ({ ...process.env, PYTHONPATH: sitecustomize(), SSTT_TEST_DNS_PORT: String(dnsPort) });

/** dkimpy's verdict on the DKIM-Signature at `index` (0: the topmost): `signature ok` and exit 0, or exit 1. */
export function dkimverify(message: Buffer, dnsPort: number, index = 0): Promise<RunResult> {
  return run(requireTool('dkimverify'), ['--index', String(index)], { input: message, env: pythonEnv(dnsPort) });
}

/** dkimpy's `dkimsign` (relaxed/relaxed here): the message with its signature in front. */
export async function dkimsign(message: Buffer, o: { selector: string; domain: string; keyFile: string; algorithm?: string }): Promise<Buffer> {
  const r = await run(
    requireTool('dkimsign'),
    ['--hcanon', 'relaxed', '--bcanon', 'relaxed', '--signalg', o.algorithm ?? 'rsa-sha256', o.selector, o.domain, o.keyFile],
    { input: message },
  );
  if (r.code !== 0) throw new Error(`dkimsign failed: ${r.stderr}`);
  return Buffer.from(r.stdout, 'latin1');
}

/**
 * dkimpy's library, for what its dkimsign script has no option for: the body length tag l=
 * (`length=True`, RFC 6376 §3.5) and the fields signed. The signed message on stdout.
 */
export async function dkimpySign(
  message: Buffer,
  o: { selector: string; domain: string; keyFile: string; length?: boolean; headers?: string[] },
): Promise<Buffer> {
  const script = [
    'import sys, dkim',
    'msg = sys.stdin.buffer.read()',
    `key = open(${JSON.stringify(o.keyFile)}, 'rb').read()`,
    `hdrs = ${o.headers ? `[${o.headers.map((h) => `b'${h}'`).join(', ')}]` : 'None'}`,
    `sig = dkim.sign(msg, b'${o.selector}', b'${o.domain}', key, canonicalize=(b'relaxed', b'relaxed'), include_headers=hdrs, length=${o.length ? 'True' : 'False'})`,
    'sys.stdout.buffer.write(sig + msg)',
  ].join('\n');
  const r = await run(dkimPython(), ['-c', script], { input: message });
  if (r.code !== 0) throw new Error(`dkimpy sign failed: ${r.stderr}`);
  return Buffer.from(r.stdout, 'latin1');
}

/**
 * Mail::SPF's verdict (the RFC 7208 reference implementation) for one identity: `mfrom` (MAIL FROM,
 * with the HELO name beside it for macros) or `helo`. The result word of its first line.
 */
export async function spfquery(q: { scope: 'mfrom' | 'helo'; identity: string; ip: string; helo?: string }, dnsPort: number): Promise<string> {
  const args = ['--scope', q.scope, '--identity', q.identity, '--ip-address', q.ip, ...(q.helo ? ['--helo-identity', q.helo] : [])];
  const r = await run(requireTool('spfquery'), args, { env: { ...process.env, RES_NAMESERVERS: '127.0.0.1', RES_OPTIONS: `port:${dnsPort}` } });
  const word = r.stdout.split('\n')[0]!.trim();
  if (!word) throw new Error(`spfquery printed nothing (${r.code}): ${r.stderr}`);
  return word;
}
