// exim 4.96, Debian's MTA, as the client of our SMTP: a real mail server relaying to us as its
// smarthost. When PIPELINING is offered it sends the message's "." and QUIT in one write and then
// its FIN, and reads our replies after that; before the fix our 250 was never written, exim logged
// "Remote host closed connection in response to end of data" and kept the message to send again.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireTool, run, type Started } from '@sstt/testkit';
import { startSmtp, testScenario, userNew, type TestWorld } from './helpers.ts';

let w: TestWorld;
let smtp: Started;
let exim: string;
let dir: string;

beforeAll(async () => {
  exim = requireTool('exim4');
  w = testScenario();
  smtp = await startSmtp({ scenario: w.s });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sstt-exim-client-'));
});

afterAll(async () => {
  await smtp?.close();
  w?.remove();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** exim's own configuration: every address routed to our SMTP on 127.0.0.1, spool and log here. */
function eximConf(port: number): string {
  return [
    // exim -C keeps the environment out unless told (its warning would go to stderr).
    'keep_environment =',
    'primary_hostname = client.example.test',
    `spool_directory = ${dir}/spool`,
    `log_file_path = ${dir}/log/%slog`,
    'begin routers',
    'smarthost:',
    '  driver = manualroute',
    `  route_list = * 127.0.0.1::${port}`,
    '  transport = remote_smtp',
    '  self = send',
    'begin transports',
    'remote_smtp:',
    '  driver = smtp',
    '  allow_localhost',
    '  hosts_avoid_tls = *',
    'begin retry',
    '* * F,1h,1h',
    '',
  ].join('\n');
}

describe('exim as our client', () => {
  it('relays a message to us: our 250 reaches it after its pipelined "." and QUIT and its FIN, it logs Completed, the message is stored once', async () => {
    if (process.getuid?.() !== 0) throw new Error('this test needs root (exim -C keeps its privileges only for root): run it as root, as CI does');
    // exim writes its spool and log as its own user (Debian-exim).
    const id = async (flag: string) => Number((await run('id', [flag, 'Debian-exim'])).stdout);
    const [uid, gid] = [await id('-u'), await id('-g')];
    fs.chmodSync(dir, 0o755);
    for (const sub of ['spool', 'log']) {
      fs.mkdirSync(path.join(dir, sub));
      fs.chownSync(path.join(dir, sub), uid, gid);
    }
    const conf = path.join(dir, 'exim.conf');
    fs.writeFileSync(conf, eximConf(smtp.port), { mode: 0o644 });
    const user = w.s.users[1]!;
    const before = userNew(w.s, user.name).length;
    const r = await run(exim, ['-C', conf, '-odi', '-f', 'sender@client.example.test', user.email], { input: 'Subject: from exim\n\nhello\n' });
    expect(r.code, r.stderr).toBe(0);
    const log = fs.readFileSync(path.join(dir, 'log', 'mainlog'), 'utf8');
    expect(log).toMatch(
      new RegExp(`=> ${user.email.replace(/\./g, '\\.')} R=smarthost T=remote_smtp H=127\\.0\\.0\\.1 \\[127\\.0\\.0\\.1\\] C="250 OK id=\\S+"`),
    );
    expect(log).toMatch(/ Completed\n/);
    expect(log).not.toMatch(/closed connection|defer/);
    expect(userNew(w.s, user.name).length).toBe(before + 1);
  });
});
