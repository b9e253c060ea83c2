// `npm run dev` as a user runs it: certificates first, the banner, every app listening, real
// clients answered, and Ctrl-C (SIGINT to the process group, as a terminal sends it) closing all.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certPaths, loadScenario, SERVICES, type Scenario } from '@sstt/scenario';
import { requireTool, run, tempDir } from '@sstt/testkit';
import { portIsFree, portOf, privateEnv, sessionProcesses, silentForwarder, spawnGroup, waitForPort, type Spawned } from './helpers.ts';

const tmp = tempDir('sstt-e2e-');
let env: Record<string, string>;
let s: Scenario;
let dev: Spawned;
let forwarder: { port: number; close(): void };

beforeAll(async () => {
  forwarder = await silentForwarder();
  env = await privateEnv(tmp.dir, forwarder.port);
  s = loadScenario({ env, resolvConfPath: '/dev/null' });
  dev = spawnGroup('npm', ['run', 'dev'], env);
  await dev.waitFor(/SERVICE\s+ADDRESS\s+TRY IT/, 90_000);
  for (const service of SERVICES) await waitForPort(portOf(env, service), 60_000);
  // The first start builds and mints every certificate (RSA and DKIM keys in a fresh data
  // directory): bounded by the waits above, not by the hook's default.
}, 240_000);

afterAll(async () => {
  // turbo runs each task in a process group of its own: kill the whole session, not just our group.
  if (dev) for (const p of sessionProcesses(dev.child.pid!)) killQuietly(p.pid);
  forwarder?.close();
  tmp.remove();
});

describe('npm run dev', () => {
  it('mints the certificates before anything starts', () => {
    const c = certPaths(s);
    for (const file of [c.ca.cert, c.server.cert, c.server.key, c.crl, c.client(s.users[0]!.name).p12]) {
      expect(fs.existsSync(file), file).toBe(true);
    }
  });

  it('prints the table of services with a command to try each', () => {
    const out = dev.output();
    for (const service of SERVICES) expect(out).toContain(`${s.listen.address}:${portOf(env, service)}`);
    expect(out).toContain(`dig @${s.listen.address} -p ${portOf(env, 'dns')} www.${s.domain}`);
    expect(out).toContain('Thunderbird:');
    // A fresh checkout: nothing on this machine resolves or trusts the domain yet, and the banner says how.
    expect(out).toContain(`by name in a browser on this machine: sudo npx sstt resolve (`);
    expect(out).toContain(`; sudo npx sstt trust --client ${s.users[0]!.name} (`);
  });

  it('DNS answers dig', async () => {
    const r = await run(requireTool('dig'), ['@127.0.0.1', '-p', String(portOf(env, 'dns')), '+short', `www.${s.domain}`]);
    expect(r.stdout.trim()).toBe(s.names.find((n) => n.label === 'www')!.address);
  });

  it('HTTP answers curl', async () => {
    const r = await run(requireTool('curl'), ['-s', '-o', '/dev/null', '-w', '%{http_code}', `http://127.0.0.1:${portOf(env, 'http')}/`]);
    expect(r.stdout).toBe('200');
  });

  it('HTTPS answers curl with the client certificate that dev minted', async () => {
    const c = certPaths(s);
    const client = c.client(s.users[0]!.name);
    const r = await run(requireTool('curl'), [
      '-s',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      '--cacert',
      c.ca.cert,
      '--cert',
      client.cert,
      '--key',
      client.key,
      '--resolve',
      `www.${s.domain}:${portOf(env, 'https')}:127.0.0.1`,
      `https://www.${s.domain}:${portOf(env, 'https')}/`,
    ]);
    expect(r.stdout).toBe('200');
  });

  it('mail: swaks sends to a local user, curl reads it over POP3', async () => {
    const [from, to] = [s.users[0]!, s.users[1]!];
    const send = await run(requireTool('swaks'), [
      '--server',
      `127.0.0.1:${portOf(env, 'smtp')}`,
      '--from',
      from.email,
      '--to',
      to.email,
      '--header',
      'Subject: e2e through npm run dev',
      '--body',
      'hola',
    ]);
    expect(send.code, send.stdout + send.stderr).toBe(0);
    const list = await run(requireTool('curl'), ['-s', '-u', `${to.name}:${to.password}`, `pop3://127.0.0.1:${portOf(env, 'pop3')}/1`]);
    expect(list.stdout).toContain('Subject: e2e through npm run dev');
  });

  it('the web console lists that message, linked to the SMTP session that brought it', async () => {
    const base = `http://127.0.0.1:${portOf(env, 'console')}/api/v1`;
    const to = s.users[1]!;
    type Page = { messages: Array<{ subject: string; smtpId: string }> };
    const deadline = Date.now() + 10_000;
    let found: Page['messages'][number] | undefined;
    let session: { id: string } | undefined;
    while (!found || !session) {
      expect(Date.now() < deadline, 'the message and its session in the console within 10 s').toBe(true);
      const page = (await (
        await fetch(`${base}/mailboxes/${to.name}/messages?query=${encodeURIComponent('subject:"e2e through npm run dev"')}`)
      ).json()) as Page;
      found = page.messages[0];
      if (found)
        session = ((await (await fetch(`${base}/sessions?protocol=smtp&smtpId=${found.smtpId}`)).json()) as { sessions: Array<{ id: string }> }).sessions[0];
      if (!found || !session) await new Promise((r) => setTimeout(r, 100));
    }
    expect((await fetch(`http://127.0.0.1:${portOf(env, 'console')}/`)).headers.get('content-type')).toBe('text/html; charset=utf-8');
  });

  it("the console's bundle opens that message (mailparser) and sends one through submission (nodemailer)", async () => {
    // Both libraries are CommonJS loaded with import() on first use: in a bundle they read otherwise than from source.
    const base = `http://127.0.0.1:${portOf(env, 'console')}/api/v1`;
    const [from, to] = [s.users[0]!, s.users[1]!];
    const page = (await (await fetch(`${base}/mailboxes/${to.name}/messages?query=${encodeURIComponent('subject:"e2e through npm run dev"')}`)).json()) as {
      messages: Array<{ id: string }>;
    };
    const view = await fetch(`${base}/messages/${page.messages[0]!.id}`);
    expect(view.status).toBe(200);
    expect(((await view.json()) as { parsed: { text: string } }).parsed.text.trim()).toBe('hola');
    const sent = await fetch(`${base}/send`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ from: from.name, to: [`${to.name}@${s.domain}`], subject: 'sent from the console', text: 'adios' }),
    });
    expect(sent.status).toBe(200);
    expect(((await sent.json()) as { response: string }).response).toMatch(/^250 OK id=/);
  });

  it('an app killed with SIGKILL is restarted within 15 s while the others keep answering', async () => {
    const apps = ['dns', 'mail', 'http', 'console'] as const;
    const pidOf = (app: string) => sessionProcesses(dev.child.pid!).find((p) => p.cmdline.includes(`apps/${app}/dist/main.js`))?.pid;
    for (const app of apps) {
      const pid = pidOf(app);
      expect(pid, `${app} runs under the supervisor`).toBeDefined();
      process.kill(pid!, 'SIGKILL');
      const t0 = Date.now();
      for (const other of apps.filter((a) => a !== app)) expect(await answers(other), `${other} while ${app} is down`).toBe(true);
      for (;;) {
        const again = pidOf(app);
        if (again && again !== pid && (await answers(app))) break;
        expect(Date.now() - t0, `${app} back after SIGKILL`).toBeLessThan(15_000);
        await new Promise((r) => setTimeout(r, 100));
      }
      const logged = dev
        .output()
        .split('\n')
        .filter((l) => l.includes('crashed: restarting') && l.includes(`"app":"${app}"`) && l.includes('killed by SIGKILL'));
      expect(logged, 'the supervisor logs the restart with its cause').toHaveLength(1);
    }
  });

  it('Ctrl-C closes every server and ends npm run dev', async () => {
    const t0 = Date.now();
    process.kill(-dev.child.pid!, 'SIGINT');
    await dev.exited;
    const elapsed = Date.now() - t0;
    for (const service of SERVICES) expect(await portIsFree(portOf(env, service)), service).toBe(true);
    expect(elapsed).toBeLessThan(15_000);
    // No process of the tree is left behind.
    const deadline = Date.now() + 10_000;
    while (sessionProcesses(dev.child.pid!).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(sessionProcesses(dev.child.pid!).map((p) => p.cmdline)).toEqual([]);
    expect(dev.output()).not.toMatch(/still closing after/);
  });
});

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** One real client's round trip to an app's first service. */
async function answers(app: 'dns' | 'mail' | 'http' | 'console'): Promise<boolean> {
  if (app === 'console') {
    const r = await run(requireTool('curl'), ['-s', '-m', '2', '-o', '/dev/null', '-w', '%{http_code}', `http://127.0.0.1:${portOf(env, 'console')}/livez`]);
    return r.stdout === '200';
  }
  if (app === 'dns') {
    const r = await run(requireTool('dig'), ['@127.0.0.1', '-p', String(portOf(env, 'dns')), '+short', '+time=1', '+tries=1', `www.${s.domain}`]);
    return r.stdout.trim() === s.names.find((n) => n.label === 'www')!.address;
  }
  if (app === 'http') {
    const r = await run(requireTool('curl'), ['-s', '-m', '2', '-o', '/dev/null', '-w', '%{http_code}', `http://127.0.0.1:${portOf(env, 'http')}/`]);
    return r.stdout === '200';
  }
  const r = await run(requireTool('curl'), ['-s', '-m', '2', '-u', `${s.users[0]!.name}:${s.users[0]!.password}`, `pop3://127.0.0.1:${portOf(env, 'pop3')}/`]);
  return r.code === 0;
}

describe('startup errors', () => {
  it('a bad configuration value stops npm run dev with the one-line error', async () => {
    const forwarderPort = 9; // never contacted: startup fails first
    const badEnv = { ...(await privateEnv(path.join(tmp.dir, 'bad'), forwarderPort)), SSTT_DNS_PORT: 'fifty-three' };
    const bad = spawnGroup('npm', ['run', 'dev'], badEnv);
    const code = await bad.exited;
    expect(code).not.toBe(0);
    expect(bad.output()).toContain('environment: SSTT_DNS_PORT: expected a port number from 0 to 65535 (0 = any free port), found "fifty-three"');
  });

  it('an app that stops with a configuration error (its port taken) is not restarted; the others serve', async () => {
    const forwarder2 = await silentForwarder();
    const env2 = await privateEnv(path.join(tmp.dir, 'taken'), forwarder2.port);
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(portOf(env2, 'http'), '127.0.0.1', r));
    const d = spawnGroup('npm', ['run', 'dev'], env2);
    try {
      await d.waitFor(/stopped by a configuration error: not restarted.*"app":"http"/, 90_000);
      // The others come up each in its own time (a busy machine starts them in any order).
      const up = (service: 'smtp' | 'dns') =>
        waitForPort(portOf(env2, service), 60_000).catch((err: Error) => {
          throw new Error(`${service}: ${err.message}; npm run dev printed:\n${d.output().split('\n').slice(-40).join('\n')}`);
        });
      await up('smtp');
      await up('dns'); // TCP: the DNS app binds it after UDP
      expect(d.output()).toContain(`port ${portOf(env2, 'http')} on 127.0.0.1 is already taken`);
      await new Promise((r) => setTimeout(r, 1_000));
      expect(d.output()).not.toMatch(/crashed: restarting/);
      const dig = await run(requireTool('dig'), ['@127.0.0.1', '-p', String(portOf(env2, 'dns')), '+short', `www.${s.domain}`]);
      expect(dig.stdout.trim()).toBe(s.names.find((n) => n.label === 'www')!.address);
    } finally {
      process.kill(-d.child.pid!, 'SIGINT');
      await d.exited;
      for (const p of sessionProcesses(d.child.pid!)) killQuietly(p.pid);
      blocker.close();
      forwarder2.close();
    }
  });
});
