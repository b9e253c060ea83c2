// A minimal Marionette client (Firefox and Thunderbird's remote protocol, the one geckodriver
// speaks): messages "<length>:<json>", commands [0, id, name, params], replies [1, id, error,
// result]. Enough to run a script in Thunderbird's chrome context, as the Thunderbird tests do.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { freePort, requireTool, spawnWatched, type Spawned } from '@sstt/testkit';

export class Marionette {
  private buf = Buffer.alloc(0);
  private next = 1;
  private readonly waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private hello: Promise<void>;

  private constructor(private readonly sock: net.Socket) {
    let greeted!: () => void;
    this.hello = new Promise((r) => (greeted = r));
    sock.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      for (;;) {
        const colon = this.buf.indexOf(0x3a);
        if (colon < 0) break;
        const len = Number(this.buf.subarray(0, colon).toString());
        if (this.buf.length < colon + 1 + len) break;
        const msg = JSON.parse(this.buf.subarray(colon + 1, colon + 1 + len).toString('utf8'));
        this.buf = this.buf.subarray(colon + 1 + len);
        if (!Array.isArray(msg)) {
          greeted();
          continue;
        }
        const w = this.waiting.get(msg[1]);
        this.waiting.delete(msg[1]);
        if (msg[2]) w?.reject(new Error(`${msg[2].error}: ${msg[2].message}`));
        else w?.resolve(msg[3]);
      }
    });
    sock.on('close', () => {
      for (const w of this.waiting.values()) w.reject(new Error('marionette connection closed'));
      this.waiting.clear();
    });
  }

  /** Connects (retrying while Thunderbird starts) and opens a session in the chrome context. */
  static async connect(port: number, attempts = 300): Promise<Marionette> {
    for (let i = 0; ; i++) {
      const sock = await new Promise<net.Socket | undefined>((resolve) => {
        const s = net.connect(port, '127.0.0.1');
        s.once('connect', () => resolve(s));
        s.once('error', () => resolve(undefined));
      });
      if (sock) {
        const m = new Marionette(sock);
        await m.hello;
        await m.command('WebDriver:NewSession', { capabilities: {} });
        await m.command('Marionette:SetContext', { value: 'chrome' });
        return m;
      }
      if (i >= attempts) throw new Error(`no Marionette on port ${port}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  command(name: string, params: Record<string, unknown>): Promise<unknown> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      const body = Buffer.from(JSON.stringify([0, id, name, params]));
      this.sock.write(`${body.length}:`);
      this.sock.write(body);
    });
  }

  /** Runs `script` in the chrome context; it finishes by calling arguments[arguments.length - 1](value). */
  async run<T>(script: string, args: unknown[] = [], timeoutMs = 60_000): Promise<T> {
    const r = (await this.command('WebDriver:ExecuteAsyncScript', { script, args, scriptTimeout: timeoutMs, newSandbox: true })) as { value: T };
    return r.value;
  }

  close(): void {
    this.sock.destroy();
  }
}

/** Thunderbird, headless, with Marionette on a port of its own: the process and the client. */
export interface Thunderbird {
  tb: Spawned;
  m: Marionette;
  /** Ends Thunderbird (ours: by its pid, SIGTERM, then its exit awaited). */
  stop(): Promise<void>;
}

/**
 * Starts Thunderbird on a profile of `prefs` (user.js) in `dir`, with no first-run screens and
 * Marionette on a free port; HOME is `home` (the test's world).
 */
export async function startThunderbird(home: string, dir: string, prefs: Record<string, string | number | boolean>): Promise<Thunderbird> {
  const bin = requireTool('thunderbird');
  const port = await freePort();
  fs.mkdirSync(dir, { recursive: true });
  const all: Record<string, string | number | boolean> = {
    'marionette.port': port,
    'mail.shell.checkDefaultClient': false,
    'mailnews.start_page.enabled': false,
    'mail.provider.suppress_dialog_on_startup': true,
    'mail.spotlight.firstRunDone': true,
    'datareporting.policy.dataSubmissionEnabled': false,
    'app.update.disabledForTesting': true,
    ...prefs,
  };
  const text = Object.entries(all)
    .map(([k, v]) => `user_pref(${JSON.stringify(k)}, ${JSON.stringify(v)});`)
    .join('\n');
  fs.writeFileSync(path.join(dir, 'user.js'), `${text}\n`);
  const tb = spawnWatched(bin, ['--headless', '--marionette', '-remote-allow-system-access', '--no-remote', '--profile', dir], {
    env: { ...process.env, HOME: home, MOZ_CRASHREPORTER_DISABLE: '1' },
  });
  const m = await Marionette.connect(port);
  return {
    tb,
    m,
    async stop() {
      m.close();
      if (tb.child.exitCode === null) {
        tb.child.kill('SIGTERM');
        await tb.exited;
      }
    },
  };
}

/** Chrome-context JavaScript: `urlDone(start)`, an nsIUrlListener as a promise (IMAP URLs: discovery, folder updates). */
export const URL_DONE = `
const urlDone = (start) => new Promise((resolve, reject) => start({
  OnStartRunningUrl() {},
  OnStopRunningUrl(url, status) { status === 0 ? resolve() : reject(new Error("url failed " + status)); },
  QueryInterface: ChromeUtils.generateQI(["nsIUrlListener"]),
}));
`;
