// The README's three lines on a machine of the test's own (test/machine.ts): the dev servers run,
// `sudo npx sstt resolve` and `sudo npx sstt trust --client <user>`, then curl, openssl, NSS's
// certutil and Chromium (Debian's, through playwright-core, a fresh profile in the user's home)
// reach https://www.<domain>:<https port>/ by name with no CA or certificate flag; `untrust` and
// `resolve --undo` make each of them fail again and leave the system files byte for byte as they
// were. Then a crash between two stores, and the undo of exactly what was done.
import fs from 'node:fs';
import path from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certPaths } from '@sstt/scenario';
import { CHROMIUM_ARGS, requireTool, tempDir } from '@sstt/testkit';
import { changes, clientFiles, type Machine, nssFile, snapshot, startMachine, USER } from './machine.ts';

/** What must come back byte for byte: the system store, the local anchors, the hosts file. */
const SYSTEM = ['/etc/ssl', '/usr/local/share/ca-certificates', '/etc/hosts'];

let m: Machine;
let before: Record<string, string>;
let homeBefore: Record<string, string>;
const nssBefore: Record<string, string> = {};
let user: string;
let url: string;

const curl = (...args: string[]) => m.run(requireTool('curl'), ['-sS', '--max-time', '20', ...args]);
const certutilList = (dir: string) => m.runAsUser(requireTool('certutil'), ['-L', '-d', `sql:${dir}`]);
/** openssl's verdict on the server's chain, with only the system's default store (the client certificate so the handshake completes). */
const opensslVerify = () => {
  const c = clientFiles(m.s, user);
  const host = `www.${m.s.domain}`;
  return m.run(requireTool('openssl'), [
    's_client',
    '-connect',
    `${host}:${m.s.listen.ports.https}`,
    '-servername',
    host,
    '-verify_return_error',
    '-brief',
    '-cert',
    c.cert,
    '-key',
    c.key,
  ]);
};

/**
 * Debian's Chromium inside the sandbox as the user (HOME = their home, so their ~/.pki/nssdb), with
 * a fresh profile that goes afterwards, through a wrapper playwright starts (the values reach it
 * as environment, not as script text).
 */
async function withChromium<T>(use: (page: Page) => Promise<T>): Promise<T> {
  // A profile of the user's (Chromium runs as them; playwright would make it root's).
  const scratch = path.join(m.home, '.config');
  const profile = path.join(scratch, 'chromium-test');
  fs.mkdirSync(m.box.inside(profile), { recursive: true, mode: 0o700 });
  for (const d of [scratch, profile]) fs.chownSync(m.box.inside(d), USER.uid, USER.gid);
  // The client certificate is chosen by the policy that stands for a person's click in Chromium's dialog (headless has none).
  const policies = m.box.inside('/etc/chromium/policies/managed');
  fs.mkdirSync(policies, { recursive: true });
  const pattern = JSON.stringify({ pattern: `https://www.${m.s.domain}:${m.s.listen.ports.https}`, filter: { ISSUER: { CN: `ca.${m.s.domain}` } } });
  fs.writeFileSync(path.join(policies, 'sstt-test.json'), JSON.stringify({ AutoSelectCertificateForUrls: [pattern] }));
  const wrapperDir = tempDir('sstt-chromium-');
  const wrapper = path.join(wrapperDir.dir, 'chromium-in-sandbox');
  fs.writeFileSync(
    wrapper,
    // --root as in the sandbox's own argv: entering a mount namespace moves a process to the namespace's
    // root mount, which is the machine's / and not the chroot's when the suite runs in one (the fresh
    // machine's check): Chromium then read the machine's /etc/hosts, not the sandbox's, and was offline.
    '#!/bin/sh\nexec "$SSTT_NSENTER" --target "$SSTT_PID" --mount --net --root --setuid "$SSTT_UID" --setgid "$SSTT_GID" -- "$SSTT_CHROMIUM" "$@"\n',
    {
      mode: 0o755,
    },
  );
  let ctx: BrowserContext | undefined;
  try {
    ctx = await chromium.launchPersistentContext(profile, {
      executablePath: wrapper,
      args: CHROMIUM_ARGS,
      headless: true,
      chromiumSandbox: false,
      env: {
        ...m.env,
        HOME: m.home,
        // Chromium's cache and dconf's go beside the profile, which goes: the home keeps only what sstt did.
        XDG_CACHE_HOME: path.join(scratch, 'cache'),
        SSTT_NSENTER: requireTool('nsenter'),
        SSTT_PID: String(m.box.pid),
        SSTT_UID: String(USER.uid),
        SSTT_GID: String(USER.gid),
        SSTT_CHROMIUM: requireTool('chromium'),
      },
    });
    return await use(ctx.pages()[0] ?? (await ctx.newPage()));
  } finally {
    await ctx?.close();
    wrapperDir.remove();
    fs.rmSync(policies, { recursive: true, force: true });
    fs.rmSync(m.box.inside(scratch), { recursive: true, force: true });
  }
}

beforeAll(async () => {
  m = await startMachine();
  user = m.s.users[0]!.name;
  url = `https://www.${m.s.domain}:${m.s.listen.ports.https}/`;
  // This machine's store may hold a local CA that no update-ca-certificates run has linked yet;
  // a real Debian machine's store is as update-ca-certificates left it: start from there.
  const norm = await m.run(requireTool('update-ca-certificates'), []);
  expect(norm.code, norm.stderr).toBe(0);
  await m.startServers();
  before = snapshot(m.box, SYSTEM);
  homeBefore = snapshot(m.box, [m.home], nssFile);
  for (const p of Object.values(m.profiles)) nssBefore[p] = (await certutilList(p)).stdout;
}, 300_000);

afterAll(async () => {
  await m?.close();
});

describe('before: the machine knows neither the names nor the CA', () => {
  it('the name does not resolve, and with the address given the certificate is not trusted', async () => {
    expect((await m.run(requireTool('getent'), ['hosts', `www.${m.s.domain}`])).code).toBe(2);
    const c = clientFiles(m.s, user);
    expect((await curl('--cert', c.cert, '--key', c.key, url)).code).toBe(6); // CURLE_COULDNT_RESOLVE_HOST
    const pinned = await curl('--resolve', `www.${m.s.domain}:${m.s.listen.ports.https}:127.0.0.1`, '--cert', c.cert, '--key', c.key, url);
    expect(pinned.code).toBe(60); // CURLE_PEER_FAILED_VERIFICATION
    // The server sends its chain up to the CA: a root nothing here trusts.
    expect(pinned.stderr).toContain('SSL certificate problem: self-signed certificate in certificate chain');
  });
});

describe('sudo npx sstt resolve', () => {
  it('adds the zone names to /etc/hosts (no routing resolver here): getent and curl by name reach the dev servers', async () => {
    const r = await m.sstt(['resolve']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(
      `sstt resolve: ${m.s.domain} and ${m.s.network.reverseZone} on this machine, through hosts (no resolver here routes one domain to one server: /etc/hosts)`,
    );
    for (const label of ['www', 'smtp', 'pop', 'dns', 'autoconfig']) {
      const g = await m.run(requireTool('getent'), ['hosts', `${label}.${m.s.domain}`]);
      expect(g.stdout, label).toBe(`127.0.0.1       ${label}.${m.s.domain}\n`);
    }
    const page = await curl('-o', '/dev/null', '-w', '%{http_code} %{remote_ip}', `http://www.${m.s.domain}:${m.s.listen.ports.http}/`);
    expect(page.stdout).toBe('200 127.0.0.1');
    // dig against the DNS app still shows the report's address; its host view the dev servers'.
    const dig = (port: number) => m.run(requireTool('dig'), ['@127.0.0.1', '-p', String(port), '+short', `www.${m.s.domain}`]);
    expect((await dig(m.s.listen.ports.dns)).stdout).toBe(`${m.s.network.server}\n`);
    expect((await dig(m.s.listen.ports.hostdns)).stdout).toBe('127.0.0.1\n');
  });
});

describe('sudo npx sstt trust --client', () => {
  it('says what it changed and what it cannot reach', async () => {
    const r = await m.sstt(['trust', '--client', user]);
    expect(r.code, r.stderr).toBe(0);
    const anchor = `/usr/local/share/ca-certificates/${m.s.domain}.crt`;
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(
      new RegExp(`^sstt trust: the lab CA ca\\.${m.s.domain.replace('.', '\\.')} \\(it can only vouch for ${m.s.domain}, localhost, .*\\), for ${USER.name}$`),
    );
    expect(lines).toContain(`  system store (update-ca-certificates): added ${anchor}`);
    expect(lines).toContain(`  Chromium/Chrome (~/.pki/nssdb): database created, CA added, client certificate ${user} added`);
    expect(lines).toContain(`  Firefox (~/.mozilla/firefox/abcd1234.default-release): CA added, client certificate ${user} added`);
    expect(lines).toContain(
      `  Firefox (flatpak) (~/.var/app/org.mozilla.firefox/.mozilla/firefox/efgh5678.default): CA added, client certificate ${user} added`,
    );
    expect(lines).toContain(`  Thunderbird (~/.thunderbird/ijkl9012.default-release): CA added, client certificate ${user} added`);
    expect(lines).toContain(`  Node.js: NODE_EXTRA_CA_CERTS=${certPaths(m.s).ca.cert} (or node --use-system-ca, which reads the system store)`);
    expect(lines).toContain('  Python requests (certifi): REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt');
  });

  it('curl by name with the client certificate and no --cacert gets the greeting', async () => {
    const c = clientFiles(m.s, user);
    const r = await curl('--cert', c.cert, '--key', c.key, url);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Hola, CN=${m.s.users[0]!.firstName} ${m.s.id}`);
  });

  it('openssl s_client -verify_return_error verifies the server with the system store', async () => {
    const r = await opensslVerify();
    expect(r.stderr).toContain('Verification: OK');
    expect(r.code).toBe(0);
  });

  it('certutil shows the CA (trusted for servers and mail) and the client certificate in the Firefox and Thunderbird profiles', async () => {
    for (const p of Object.values(m.profiles)) {
      const list = (await certutilList(p)).stdout;
      expect(list).toMatch(new RegExp(`^ca\\.${m.s.domain.replace('.', '\\.')}\\s+C,C,\\s*$`, 'm'));
      expect(list).toMatch(new RegExp(`^${user}\\s+u,u,u$`, 'm'));
    }
  });

  it("wrote the user's files as the user (sudo): the new NSS database and the profiles stay theirs", () => {
    const nssdb = path.join(m.home, '.pki/nssdb');
    for (const f of [path.join(m.home, '.pki'), nssdb, path.join(nssdb, 'cert9.db'), path.join(nssdb, 'key4.db'), path.join(m.profiles.firefox, 'cert9.db')]) {
      expect(fs.statSync(m.box.inside(f)).uid, f).toBe(USER.uid);
    }
  });

  it('Chromium loads the page by name, presenting the imported certificate, with no certificate flag', async () => {
    await withChromium(async (page) => {
      const res = await page.goto(url, { timeout: 60_000 });
      expect(res?.status()).toBe(200);
      await expect.poll(() => page.locator('p.client').textContent()).toContain(`Hola, CN=${m.s.users[0]!.firstName} ${m.s.id}`);
    });
  });

  it('runs again without changing anything', async () => {
    const state = fs.readFileSync(path.join(m.s.paths.data, 'host', 'state.json'), 'utf8');
    const system = snapshot(m.box, SYSTEM);
    const r = await m.sstt(['trust', '--client', user]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`  Firefox (~/.mozilla/firefox/abcd1234.default-release): CA already there, client certificate ${user} already there`);
    expect(r.stdout).toContain(`system store (update-ca-certificates): already has /usr/local/share/ca-certificates/${m.s.domain}.crt`);
    expect(fs.readFileSync(path.join(m.s.paths.data, 'host', 'state.json'), 'utf8')).toBe(state);
    expect(changes(snapshot(m.box, SYSTEM), system)).toEqual([]);
  });
});

describe('npx sstt untrust, then resolve --undo', () => {
  it('untrust: curl and openssl fail again, the profiles list what they listed, the system files are byte for byte as before', async () => {
    const r = await m.sstt(['untrust']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`  Chromium/Chrome (~/.pki/nssdb): removed client certificate ${user} and its key`);
    expect(r.stdout).toContain('  NSS database (~/.pki/nssdb): removed the database sstt created');
    const c = clientFiles(m.s, user);
    const again = await curl('--cert', c.cert, '--key', c.key, url);
    expect(again.code).toBe(60);
    expect(again.stderr).toContain('SSL certificate problem: self-signed certificate in certificate chain');
    const v = await opensslVerify();
    expect(v.code).not.toBe(0);
    expect(v.stderr).toContain('verify error:num=19:self-signed certificate in certificate chain');
    for (const p of Object.values(m.profiles)) expect((await certutilList(p)).stdout, p).toBe(nssBefore[p]);
    expect(changes(snapshot(m.box, [m.home], nssFile), homeBefore)).toEqual([]);
    // /etc/hosts still has resolve's block: compare the store alone here.
    const { '/etc/hosts': _h, ...store } = snapshot(m.box, SYSTEM);
    const { '/etc/hosts': _b, ...storeBefore } = before;
    expect(changes(store, storeBefore)).toEqual([]);
  });

  it('untrust: Chromium refuses the server again', async () => {
    const failure = await withChromium((page) =>
      page.goto(url, { timeout: 60_000 }).then(
        () => 'loaded',
        (err: Error) => err.message,
      ),
    );
    expect(failure).toContain('net::ERR_CERT_AUTHORITY_INVALID');
    // That start of Chromium made its own database (~/.local/share/pki/nssdb, M146+), as on a machine where it never ran: the test's to remove.
    for (const d of ['.pki', '.local']) fs.rmSync(m.box.inside(path.join(m.home, d)), { recursive: true, force: true });
  });

  it('resolve --undo: the name no longer resolves and /etc/hosts is byte for byte as before; the record is gone', async () => {
    const r = await m.sstt(['resolve', '--undo']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('  /etc/hosts: removed the block');
    expect((await m.run(requireTool('getent'), ['hosts', `www.${m.s.domain}`])).code).toBe(2);
    expect(changes(snapshot(m.box, SYSTEM), before)).toEqual([]);
    expect(fs.existsSync(path.join(m.s.paths.data, 'host'))).toBe(false);
  });
});

describe('a crash between two stores', () => {
  it('untrust after trust was killed in the middle removes exactly what was done, and nothing else', async () => {
    // certutil that tells the test it started, then hangs: trust is killed while it waits, after
    // the system store and before any NSS database holds the CA.
    const fake = tempDir('sstt-fake-certutil-');
    const fifo = path.join(fake.dir, 'started');
    await m.run('mkfifo', ['-m', '666', fifo]);
    fs.writeFileSync(path.join(fake.dir, 'certutil'), `#!/bin/sh\necho started > "$SSTT_FIFO"\nexec sleep 600\n`, { mode: 0o755 });
    fs.chmodSync(fake.dir, 0o755);
    const trust = m.box.spawn(process.execPath, [path.join(m.s.paths.root, 'packages/cli/bin/sstt.mjs'), 'trust'], {
      env: {
        ...m.env,
        PATH: `${fake.dir}:${m.env.PATH}`,
        SSTT_FIFO: fifo,
        HOME: '/root',
        SUDO_USER: USER.name,
        SUDO_UID: String(USER.uid),
        SUDO_GID: String(USER.gid),
      },
      cwd: m.s.paths.root,
    });
    // Opening the fifo for reading waits for the fake certutil to write: the causal point, no clock.
    const started = await fs.promises.readFile(fifo, 'utf8');
    expect(started).toBe('started\n');
    process.kill(-trust.child.pid!, 'SIGKILL');
    await trust.exited;
    expect(trust.output()).toContain(`system store (update-ca-certificates): added /usr/local/share/ca-certificates/${m.s.domain}.crt`);
    expect(snapshot(m.box, SYSTEM)).not.toEqual(before);
    const record = JSON.parse(fs.readFileSync(path.join(m.s.paths.data, 'host', 'state.json'), 'utf8')) as { trust: { changes: Array<{ kind: string }> } };
    expect(record.trust.changes.map((c) => c.kind)).toEqual(['system-anchor', 'nss-db']);
    fake.remove();

    const r = await m.sstt(['untrust']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('  NSS database (~/.pki/nssdb): no database; removed the directories sstt made for it');
    expect(r.stdout).toContain(`  system store: removed /usr/local/share/ca-certificates/${m.s.domain}.crt`);
    expect(changes(snapshot(m.box, SYSTEM), before)).toEqual([]);
    expect(changes(snapshot(m.box, [m.home], nssFile), homeBefore)).toEqual([]);
    expect(fs.existsSync(path.join(m.s.paths.data, 'host', 'state.json'))).toBe(false);
  });
});
