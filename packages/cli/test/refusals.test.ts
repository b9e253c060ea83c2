// What `sstt` refuses, each with its exact message and exit status 2, and with nothing changed on
// the machine (run on a machine of the test's own all the same: a refusal that failed to refuse
// must not reach this machine's trust store): no certs/, a CA without name constraints, a CA whose
// constraints reach beyond the lab, the CA of another ID, the record of another ID. Then the same
// commands without sudo: what a user can do alone, and what needs root, said as such.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initPki } from '@sstt/pki';
import { certPaths, loadScenario } from '@sstt/scenario';
import { requireTool, tempDir } from '@sstt/testkit';
import { changes, type Machine, nssFile, SSTT_BIN, snapshot, startMachine, USER } from './machine.ts';

const SYSTEM = ['/etc/ssl', '/usr/local/share/ca-certificates', '/etc/hosts'];
let m: Machine;
const tmp = tempDir('sstt-refusals-');
let untouched: () => void;

beforeAll(async () => {
  m = await startMachine({ mint: false });
  const system = snapshot(m.box, SYSTEM);
  const home = snapshot(m.box, [m.home], nssFile);
  untouched = () => {
    expect(changes(snapshot(m.box, SYSTEM), system)).toEqual([]);
    expect(changes(snapshot(m.box, [m.home], nssFile), home)).toEqual([]);
  };
}, 300_000);

afterAll(async () => {
  await m?.close();
  tmp.remove();
});

/** A self-signed CA made by openssl, with the given extra extensions, as certs/ca/ca.crt of a fresh certs directory. */
function opensslCa(name: string, ...addext: string[]): string {
  const dir = path.join(tmp.dir, name);
  fs.mkdirSync(path.join(dir, 'ca'), { recursive: true });
  const cert = path.join(dir, 'ca', 'ca.crt');
  const ext = ['basicConstraints=critical,CA:TRUE', ...addext].flatMap((e) => ['-addext', e]);
  execFileSync(
    requireTool('openssl'),
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'ca', 'ca.key'), '-out', cert, '-days', '2', '-subj', '/CN=some CA', ...ext],
    { stdio: 'ignore' },
  );
  return dir;
}

async function refused(args: string[], env: Record<string, string>, message: string): Promise<void> {
  const r = await m.sstt(args, env);
  expect(r.stderr).toBe(`sstt: ${message}\n`);
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  untouched();
}

describe('refusals: exact message, exit 2, nothing changed', () => {
  it('no certs/', async () => {
    const certs = path.join(tmp.dir, 'none');
    const ca = path.join(certs, 'ca', 'ca.crt');
    await refused(
      ['trust'],
      { SSTT_CERTS_DIR: certs },
      `no lab CA: ${ca} is missing (certificates: ${certs}/); run npm run dev or npx sstt-pki init first, they mint it`,
    );
  });

  it('a CA without name constraints', async () => {
    const certs = opensslCa('unconstrained');
    await refused(
      ['trust'],
      { SSTT_CERTS_DIR: certs },
      `${path.join(certs, 'ca', 'ca.crt')} has no name constraints: trusting it would let it vouch for any site, so sstt does not install it`,
    );
  });

  it('a CA whose constraints reach beyond the lab', async () => {
    const certs = opensslCa('wide', `nameConstraints=critical,permitted;DNS:${m.s.domain},permitted;DNS:example.com,permitted;IP:10.0.0.0/255.0.0.0`);
    await refused(
      ['trust'],
      { SSTT_CERTS_DIR: certs },
      `${path.join(certs, 'ca', 'ca.crt')} may vouch for DNS:example.com, IP:10.0.0.0/8, outside ${m.s.domain} and the lab's addresses: sstt does not install it`,
    );
  });

  it("the CA of another ID (its certs/ given to this ID's command)", async () => {
    const certs = path.join(tmp.dir, 'other-id');
    await initPki(
      loadScenario({
        env: { SSTT_ID: '1234', SSTT_CERTS_DIR: certs, SSTT_DATA_DIR: path.join(tmp.dir, 'var-1234') },
        flags: {},
        resolvConfPath: '/nonexistent',
      }),
    );
    await refused(
      ['trust'],
      { SSTT_CERTS_DIR: certs },
      `${path.join(certs, 'ca', 'ca.crt')} is the CA of ID 1234 (sstt1234.org), not of ${m.s.domain}: run sstt with --id 1234 to act for it`,
    );
  });

  it("another ID's record: trust, untrust, resolve and resolve --undo all refuse, naming the commands that undo it", async () => {
    await initPki(m.s);
    const file = path.join(m.s.paths.data, 'host', 'state.json');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const record = `${JSON.stringify({ version: 1, id: '1234', domain: 'sstt1234.org', trust: { changes: [] }, resolve: { method: 'hosts', changes: [] } })}\n`;
    fs.writeFileSync(file, record);
    const message = `${file} records what sstt did for ID 1234 (sstt1234.org), not ${m.s.id}: undo that first with npx sstt untrust --id 1234 and npx sstt resolve --undo --id 1234`;
    for (const args of [['trust'], ['untrust'], ['resolve'], ['resolve', '--undo']]) await refused(args, {}, message);
    expect(fs.readFileSync(file, 'utf8')).toBe(record);
    fs.rmSync(path.dirname(file), { recursive: true });
  });

  it('a user who is not in the scenario, and bad flags', async () => {
    await refused(
      ['trust', '--client', `nobody_${m.s.id}`],
      {},
      `--client nobody_${m.s.id}: not a user of ${m.s.domain} (${m.s.users.map((u) => u.name).join(', ')})`,
    );
    await refused(['resolve', '--via', 'carrier-pigeon'], {}, '--via: expected one of delegate, dnsmasq, macos, hosts, found "carrier-pigeon"');
    await refused(['untrust', '--client', m.s.users[0]!.name], {}, 'untrust takes no --client');
  });
});

describe('without sudo', () => {
  const asUser = (args: string[]) =>
    m.box.run(process.execPath, [SSTT_BIN, ...args], {
      as: { uid: USER.uid, gid: USER.gid },
      env: { ...m.env, HOME: m.home },
      cwd: m.s.paths.root,
      timeoutMs: 300_000,
    });

  it('resolve says it needs root, changes nothing and records nothing', async () => {
    // The user's own checkout: var/ is theirs.
    fs.chownSync(m.s.paths.data, USER.uid, USER.gid);
    const r = await asUser(['resolve']);
    expect(r.stderr).toBe('sstt: sstt resolve changes files under /etc: run sudo npx sstt resolve\n');
    expect(r.code).toBe(2);
    untouched();
    expect(fs.existsSync(path.join(m.s.paths.data, 'host'))).toBe(false);
  });

  it("trust does the user's own stores, says the system store needs root, and untrust undoes them", async () => {
    const t = await asUser(['trust']);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).toContain('  system store: needs root: run sudo npx sstt trust');
    expect(t.stdout).toContain('  Firefox (~/.mozilla/firefox/abcd1234.default-release): CA added');
    const list = await m.runAsUser(requireTool('certutil'), ['-L', '-d', `sql:${m.profiles.firefox}`]);
    expect(list.stdout).toMatch(new RegExp(`^ca\\.${m.s.domain.replace('.', '\\.')}\\s+C,C,`, 'm'));
    const u = await asUser(['untrust']);
    expect(u.code, u.stdout + u.stderr).toBe(0);
    untouched();
    expect(fs.existsSync(path.join(m.s.paths.data, 'host'))).toBe(false);
    expect(fs.existsSync(certPaths(m.s).ca.cert)).toBe(true);
  });
});
