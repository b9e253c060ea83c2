// Maildir compatibility: Debian's dovecot-pop3d, run privately on a free loopback port and
// pointed at a Maildir this app delivered into, lists the same messages with the same sizes and
// returns them byte for byte; then our POP3 server reads the Maildir dovecot has touched
// (files moved to cur/, dovecot-uidlist written) and shows the same listing and UIDLs.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maildirOf } from '@sstt/scenario';
import { handToMailUser, requireTool, run, startServer, type Started } from '@sstt/testkit';
import { createPop3Server } from '../src/pop3/server.ts';
import { startDovecot, type Dovecot } from './dovecot-ref.ts';
import { maildirFiles, startSmtp, testScenario, type TestWorld } from './helpers.ts';

/** One POP3 session with Python's poplib: STAT, LIST, UIDL and every message (RETR). */
const POPLIB = `
import json, poplib, sys
host, port, user, pw = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
p = poplib.POP3(host, port, timeout=10)
p.user(user); p.pass_(pw)
count, size = p.stat()
lst = [l.decode() for l in p.list()[1]]
uidl = [l.decode() for l in p.uidl()[1]]
msgs = []
for i in range(1, count + 1):
    resp, lines, octets = p.retr(i)
    msgs.append({'octets': octets, 'hex': (b'\\r\\n'.join(lines) + b'\\r\\n').hex()})
p.quit()
print(json.dumps({'stat': [count, size], 'list': lst, 'uidl': uidl, 'msgs': msgs}))
`;

interface PopView {
  stat: [number, number];
  list: string[];
  uidl: string[];
  msgs: Array<{ octets: number; hex: string }>;
}

async function poplibView(port: number, user: string, password: string): Promise<PopView> {
  const r = await run(requireTool('python3'), ['-c', POPLIB, '127.0.0.1', String(port), user, password]);
  if (r.code !== 0) throw new Error(`poplib failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as PopView;
}

let w: TestWorld;
let smtp: Started;
let dove: Dovecot | undefined;

beforeAll(async () => {
  requireTool('swaks');
  w = testScenario();
  smtp = await startSmtp({ scenario: w.s });
});

afterAll(async () => {
  await dove?.stop();
  await smtp?.close();
  w?.remove();
});

describe('dovecot reads what we deliver', () => {
  it('lists the same count and sizes, returns the same bytes, and our POP3 agrees after dovecot touched it', async () => {
    const s = w.s;
    const user = s.users[1]!;
    const bodies = [
      'Subject: uno\r\n\r\nprimer mensaje\r\n',
      'Subject: dos\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nañadido en 8 bits: ü ñ €\r\n',
      'Subject: tres\r\n\r\n.punto al principio\r\n..dos\r\nbare\nLF inside\r\n',
      `Subject: cuatro\r\n\r\n${'linea larga '.repeat(40)}\r\n`.repeat(30),
    ];
    for (const body of bodies) {
      const r = await run(requireTool('swaks'), ['--server', `127.0.0.1:${smtp.port}`, '--from', s.users[0]!.email, '--to', user.email, '--data', '-'], {
        input: body + '.\r\n',
      });
      expect(r.code, r.stdout + r.stderr).toBe(0);
    }
    const maildir = maildirOf(s, user.name);
    const ours = maildirFiles(maildir).map((f) => ({ size: fs.statSync(f).size, data: fs.readFileSync(f) }));
    expect(ours).toHaveLength(bodies.length);

    handToMailUser(s.paths.mail, w.root);
    dove = await startDovecot(s, path.join(w.root, 'dovecot'));
    const dv = await poplibView(dove.port, user.name, user.password);
    expect(dv.stat[0]).toBe(ours.length);
    expect(dv.stat[1]).toBe(ours.reduce((a, m) => a + m.size, 0));
    const dvSizes = dv.list.map((l) => Number(l.split(' ')[1])).sort((a, b) => a - b);
    expect(dvSizes).toEqual(ours.map((m) => m.size).sort((a, b) => a - b));
    // every message dovecot returns is one of our files, byte for byte
    const ourHex = new Set(ours.map((m) => m.data.toString('hex')));
    for (const m of dv.msgs) expect(ourHex.has(m.hex)).toBe(true);
    await dove.stop();
    dove = undefined;
    // dovecot moved the messages to cur/ and wrote dovecot-uidlist
    expect(maildirFiles(maildir, 'cur')).toHaveLength(ours.length);
    expect(fs.existsSync(path.join(maildir, 'dovecot-uidlist'))).toBe(true);

    const pop3 = await startServer(createPop3Server({ scenario: s, host: '127.0.0.1', port: 0 }));
    try {
      const mine = await poplibView(pop3.port, user.name, user.password);
      expect(mine.stat).toEqual(dv.stat);
      expect(mine.list).toEqual(dv.list);
      expect(mine.uidl).toEqual(dv.uidl);
      expect(mine.msgs).toEqual(dv.msgs);
    } finally {
      await pop3.close();
    }
  });
});
