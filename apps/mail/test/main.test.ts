// The app as a process (src/main.ts): a kill -9 in the middle of deliveries loses nothing that
// was acknowledged and leaves no partial file in new/; a taken port is one line and exit 2.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maildirOf } from '@sstt/scenario';
import { rawTcp, type RawClient } from '@sstt/testkit';
import { appEnv, childEnv, MAIN, startApp } from './app-process.ts';
import { maildirFiles, testScenario, type TestWorld } from './helpers.ts';

/** Reads one SMTP reply (last line "<code> "). */
async function reply(c: RawClient): Promise<string> {
  for (;;) {
    const line = (await c.readLine(10_000)).replace(/\r\n$/, '');
    if (/^\d{3} /.test(line)) return line;
  }
}

let w: TestWorld;
beforeAll(() => {
  w = testScenario();
});
afterAll(() => w?.remove());

const baseEnv = () => appEnv(w.s);

describe('sstt-mail process', () => {
  it('kill -9 during deliveries: every acknowledged message is whole in new/, nothing partial is', async () => {
    const app = await startApp(baseEnv());
    const port = app.ports.smtp!;
    const user = w.s.users[1]!;
    const maildir = maildirOf(w.s, user.name);
    const acked = new Map<string, string>(); // id -> marker
    let stop = false;
    /** Markers of the messages whose body was sent and whose reply has not come. */
    const inFlight = new Set<string>();
    // The kill comes once 60 messages were acknowledged, right after a sender has sent a whole
    // body (and the half client's stays unfinished): deliveries are under way when it lands.
    let killNow!: () => void;
    const killTime = new Promise<void>((r) => (killNow = r));
    const bodyLine = `${'y'.repeat(76)}\r\n`;

    // Four senders in a loop; each message ends with a line naming it.
    const sender = async (k: number) => {
      const c = await rawTcp(port);
      try {
        await reply(c);
        c.write('EHLO crash\r\n');
        await reply(c);
        for (let i = 0; !stop; i++) {
          const marker = `END c${k}-m${i}`;
          c.write(`MAIL FROM:<${w.s.users[0]!.email}>\r\nRCPT TO:<${user.email}>\r\nDATA\r\n`);
          await reply(c);
          await reply(c);
          await reply(c);
          inFlight.add(marker);
          c.write(`Subject: ${marker}\r\n\r\n${bodyLine.repeat(20 + ((k * 7 + i) % 40))}${marker}\r\n.\r\n`);
          if (acked.size >= 60) killNow();
          const r = await reply(c);
          inFlight.delete(marker);
          if (r.startsWith('250 OK id=')) acked.set(r.slice('250 OK id='.length), marker);
        }
      } catch {
        // the server died under us: expected
      } finally {
        c.destroy();
      }
    };
    const senders = [0, 1, 2, 3].map(sender);

    // One client stops in the middle of DATA: its message must never reach new/.
    const half = await rawTcp(port);
    await reply(half);
    half.write(`EHLO half\r\nMAIL FROM:<>\r\nRCPT TO:<${user.email}>\r\nDATA\r\n`);
    for (let i = 0; i < 4; i++) await reply(half);
    half.write(`Subject: HALF\r\n\r\n${bodyLine.repeat(200)}`);

    await killTime;
    app.child.kill('SIGKILL');
    const atKill = new Set(inFlight);
    const { signal } = await app.exited;
    stop = true;
    await Promise.all(senders);
    half.destroy();
    expect(signal).toBe('SIGKILL');

    const files = maildirFiles(maildir);
    const byId = new Map<string, string>();
    for (const f of files) {
      const text = fs.readFileSync(f, 'latin1');
      const size = Number(/,S=(\d+)/.exec(path.basename(f))?.[1]);
      expect(fs.statSync(f).size, f).toBe(size);
      const id = /\tid (\S+)\r\n/.exec(text)?.[1];
      const marker = /^Subject: (END c\d+-m\d+)\r\n/m.exec(text)?.[1];
      expect(id && marker, `${f} is a complete message`).toBeTruthy();
      expect(text.endsWith(`${marker}\r\n`), `${f} ends with its marker`).toBe(true);
      byId.set(id!, marker!);
    }
    for (const [id, marker] of acked) expect(byId.get(id), `acknowledged ${id} (${marker}) is in new/`).toBe(marker);
    expect(files.some((f) => fs.readFileSync(f, 'latin1').includes('Subject: HALF'))).toBe(false);
    // Nothing else reached new/: each file is an acknowledged message or one under way at the kill.
    const known = new Set([...acked.values(), ...atKill]);
    expect([...byId.values()].filter((m) => !known.has(m))).toEqual([]);

    // The server restarts on the same Maildirs and keeps delivering.
    const again = await startApp(baseEnv());
    try {
      const c = await rawTcp(again.ports.smtp!);
      await reply(c);
      c.write(`EHLO again\r\nMAIL FROM:<>\r\nRCPT TO:<${user.email}>\r\nDATA\r\n`);
      for (let i = 0; i < 4; i++) await reply(c);
      c.write('Subject: after restart\r\n\r\nok\r\n.\r\n');
      expect(await reply(c)).toMatch(/^250 OK id=/);
      c.destroy();
      expect(maildirFiles(maildir).length).toBe(files.length + 1);
    } finally {
      again.child.kill('SIGTERM');
      expect((await again.exited).code).toBe(0);
    }
  });

  it('a taken SMTP port is one line on stderr and exit status 2', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const taken = (blocker.address() as net.AddressInfo).port;
    try {
      const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
        env: childEnv({ ...baseEnv(), SSTT_SMTP_PORT: String(taken) }),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
      expect(code).toBe(2);
      expect(err.trim().split('\n')).toHaveLength(1);
      expect(err).toMatch(new RegExp(`^sstt-mail: .*smtp.*${taken}`));
    } finally {
      blocker.close();
    }
  });
});
