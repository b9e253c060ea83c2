// A Debian machine of the test's own (packages/testkit sandbox.ts): /etc, /usr/local/share/ca-certificates
// and /var copy-on-write, only loopback, a user who runs `sudo npx sstt ...` with a throw-away home
// holding a Firefox-layout and a Thunderbird-layout profile, the lab's certificates minted for the
// test, and the dev servers (apps/dns with both views, apps/http) started inside on the dev ports.
// The namespace has its own network stack, so the dev profile's fixed ports are free there and
// the commands are exactly the README's (https://www.<domain>:<https port>/).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { initPki } from '@sstt/pki';
import { certPaths, loadScenario, type Scenario } from '@sstt/scenario';
import { requireTool, run, type RunResult, type Sandbox, type Spawned, startSandbox, stopSpawned, tempDir } from '@sstt/testkit';

const root = fileURLToPath(new URL('../../../', import.meta.url));
export const SSTT_BIN = path.join(root, 'packages/cli/bin/sstt.mjs');

/** The user who types `sudo npx sstt ...` (added to the sandbox's passwd). */
export const USER = { name: 'sstt-dev', uid: 4242, gid: 4242 };

export interface Machine {
  s: Scenario;
  box: Sandbox;
  home: string;
  /** Profiles the test made in the Firefox and Thunderbird layouts (and a flatpak Firefox). */
  profiles: { firefox: string; flatpakFirefox: string; thunderbird: string };
  env: NodeJS.ProcessEnv;
  /** `sudo npx sstt ARGS` as USER typed it, inside the sandbox. */
  sstt(args: string[], extraEnv?: NodeJS.ProcessEnv): Promise<RunResult>;
  /** Runs a program inside as root. */
  run(cmd: string, args: string[], extraEnv?: NodeJS.ProcessEnv): Promise<RunResult>;
  /** Runs a program inside as USER (HOME = their home, in it). */
  runAsUser(cmd: string, args: string[]): Promise<RunResult>;
  startServers(): Promise<void>;
  close(): Promise<void>;
}

export interface MachineOptions {
  /** Mint the certificates (default true); the refusal tests bring their own. */
  mint?: boolean;
  /** Extra SSTT_* for the scenario (e.g. another ID). */
  scenarioEnv?: Record<string, string>;
  /** More directories the sandbox hides behind an empty tmpfs (e.g. /run, to fake a daemon's runtime directory). */
  hidden?: string[];
}

/**
 * Every file, link and directory under these paths (as the sandbox sees them): type, mode, owner,
 * content digest or link target. `opaque` files are compared without their content: an NSS
 * database is SQLite, whose pages differ after an insert and a delete; `certutil -L` judges those.
 */
export function snapshot(box: Sandbox, paths: string[], opaque: (p: string) => boolean = () => false): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (p: string) => {
    const real = box.inside(p);
    let st: fs.Stats;
    try {
      st = fs.lstatSync(real);
    } catch {
      out[p] = 'absent';
      return;
    }
    const mode = (st.mode & 0o7777).toString(8);
    if (st.isSymbolicLink()) out[p] = `link -> ${fs.readlinkSync(real)}`;
    else if (st.isDirectory()) {
      out[p] = `dir ${mode} ${st.uid}`;
      for (const e of fs.readdirSync(real).sort()) walk(path.join(p, e));
    } else out[p] = `file ${mode} ${st.uid} ${opaque(p) ? '(content not compared)' : crypto.createHash('sha256').update(fs.readFileSync(real)).digest('hex')}`;
  };
  for (const p of paths) walk(p);
  return out;
}

/** What differs between two snapshots, one line per path ('' for none): readable where a deep-equal diff is truncated. */
export function changes(now: Record<string, string>, was: Record<string, string>): string[] {
  const keys = [...new Set([...Object.keys(was), ...Object.keys(now)])].sort();
  return keys.filter((k) => now[k] !== was[k]).map((k) => `${k}: ${was[k] ?? 'absent'} -> ${now[k] ?? 'absent'}`);
}

/** Who the sandbox's Chromium/NSS user is, in passwd and group. */
function addUser(box: Sandbox, home: string): void {
  fs.appendFileSync(box.inside('/etc/passwd'), `${USER.name}:x:${USER.uid}:${USER.gid}:sstt test user:${home}:/bin/sh\n`);
  fs.appendFileSync(box.inside('/etc/group'), `${USER.name}:x:${USER.gid}:\n`);
}

export async function startMachine(opts: MachineOptions = {}): Promise<Machine> {
  const tmp = tempDir('sstt-host-');
  const home = path.join(tmp.dir, 'home', USER.name);
  const data = path.join(tmp.dir, 'var');
  const certs = path.join(tmp.dir, 'certs');
  fs.mkdirSync(home, { recursive: true });
  fs.chmodSync(tmp.dir, 0o755);
  fs.chownSync(home, USER.uid, USER.gid);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SSTT_CERTS_DIR: certs,
    SSTT_DATA_DIR: data,
    // Nothing leaves the sandbox anyway (only loopback); a forwarder that never answers.
    SSTT_DNS_FORWARDERS: '127.0.0.1:9',
    SSTT_LOG_FORMAT: 'json',
    ...opts.scenarioEnv,
  };
  const s = loadScenario({ env, flags: {}, resolvConfPath: '/nonexistent' });
  try {
    return await build(s, tmp, home, env, opts);
  } catch (err) {
    tmp.remove();
    throw err;
  }
}

async function build(s: Scenario, tmp: { dir: string; remove(): void }, home: string, env: NodeJS.ProcessEnv, opts: MachineOptions): Promise<Machine> {
  if (opts.mint !== false) await initPki(s);
  // A JRE on this machine is hidden (none in CI: npm run setup does not install one, it is 200 MB):
  // the test sees the machine CI sees. keytool's argv and output are unit-tested (src/java.test.ts).
  const jvm = '/usr/lib/jvm';
  const box = await startSandbox({
    overlays: ['/etc', '/usr/local/share/ca-certificates', '/var'],
    // the user runs the checkout's CLI (and its Node, under .cache/ in CI's other Node versions)
    reachable: [root, path.dirname(process.execPath)],
    hidden: [...(fs.existsSync(jvm) ? [jvm] : []), ...(opts.hidden ?? [])],
  });
  try {
    return await furnish(s, box, tmp, home, env);
  } catch (err) {
    await box.close();
    throw err;
  }
}

async function furnish(s: Scenario, box: Sandbox, tmp: { dir: string; remove(): void }, home: string, env: NodeJS.ProcessEnv): Promise<Machine> {
  addUser(box, home);
  // Java's hook of update-ca-certificates (ca-certificates-java) goes with the JRE.
  fs.rmSync(box.inside('/etc/ca-certificates/update.d/jks-keystore'), { force: true });
  const servers: Spawned[] = [];
  const asUser = { uid: USER.uid, gid: USER.gid, env: { ...env, HOME: home }, cwd: home };
  const insideAsUser = { as: { uid: USER.uid, gid: USER.gid }, env: { ...env, HOME: home }, cwd: home };

  const makeProfile = async (dir: string) => {
    fs.mkdirSync(dir, { recursive: true });
    await run('chown', ['-R', `${USER.uid}:${USER.gid}`, home]);
    const r = await run(requireTool('certutil'), ['-N', '-d', `sql:${dir}`, '--empty-password'], asUser);
    if (r.code !== 0) throw new Error(`certutil -N ${dir}: ${r.stderr}`);
  };
  // Firefox: profiles.ini names the profile (relative), as Firefox writes it.
  const ffRoot = path.join(home, '.mozilla/firefox');
  const firefox = path.join(ffRoot, 'abcd1234.default-release');
  const flatpakFirefox = path.join(home, '.var/app/org.mozilla.firefox/.mozilla/firefox/efgh5678.default');
  const thunderbird = path.join(home, '.thunderbird/ijkl9012.default-release');
  for (const d of [firefox, flatpakFirefox, thunderbird]) await makeProfile(d);
  fs.writeFileSync(
    path.join(ffRoot, 'profiles.ini'),
    '[Profile0]\nName=default-release\nIsRelative=1\nPath=abcd1234.default-release\nDefault=1\n\n[General]\nStartWithLastProfile=1\nVersion=2\n',
  );
  fs.chownSync(path.join(ffRoot, 'profiles.ini'), USER.uid, USER.gid);

  const machine: Machine = {
    s,
    box,
    home,
    profiles: { firefox, flatpakFirefox, thunderbird },
    env,
    // sudo: root, HOME=/root, SUDO_* naming the user.
    sstt: (args, extraEnv = {}) =>
      box.run(process.execPath, [SSTT_BIN, ...args], {
        env: { ...env, HOME: '/root', SUDO_USER: USER.name, SUDO_UID: String(USER.uid), SUDO_GID: String(USER.gid), ...extraEnv },
        cwd: root,
        timeoutMs: 300_000,
      }),
    run: (cmd, args, extraEnv = {}) => box.run(cmd, args, { env: { ...env, ...extraEnv }, timeoutMs: 120_000 }),
    runAsUser: (cmd, args) => box.run(cmd, args, { ...insideAsUser, timeoutMs: 120_000 }),
    async startServers() {
      const main = (app: string) => path.join(root, 'apps', app, 'src', 'main.ts');
      const dns = box.spawn(process.execPath, ['--import', 'tsx', main('dns')], { env, cwd: root });
      const http = box.spawn(process.execPath, ['--import', 'tsx', main('http')], { env, cwd: root });
      servers.push(dns, http);
      await dns.waitFor(/"view":"zone".*dns listening/, 60_000);
      await dns.waitFor(/"view":"host".*dns listening/, 60_000);
      await http.waitFor(/web_sstt listening/, 60_000);
    },
    async close() {
      for (const p of servers) await stopSpawned(p);
      await box.close();
      tmp.remove();
    },
  };
  return machine;
}

/** NSS's database files (SQLite): `certutil` compares them, not their bytes. */
export const nssFile = (p: string): boolean => /\/(cert9|key4)\.db$/.test(p);

/** The client certificate's file pair of a user (for curl). */
export const clientFiles = (s: Scenario, user: string) => certPaths(s).client(user);
