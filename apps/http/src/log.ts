// The two logs of the server, both appended through a buffer so that logging never costs a
// write system call per request:
//   access.log    Combined Log Format (Apache's "combined"), one line per response;
//   webserver.log the lab's lines: "INFO:", "FORBIDDEN:", "NOT FOUND:", "ERROR:".
import fs from 'node:fs';
import path from 'node:path';

/** Flush the buffer at least this often (ms) and whenever it holds this many bytes. */
export const LOG_FLUSH_MS = 200;
export const LOG_FLUSH_BYTES = 64 * 1024;

/** An append-only file fed through an in-memory buffer. */
export class BufferedLog {
  /** Lines are encoded into this buffer as they come (no list of strings to join and encode later). */
  private buf: Buffer = Buffer.allocUnsafeSlow(LOG_FLUSH_BYTES);
  private size = 0;
  private fd: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(readonly file: string) {}

  open(): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    this.fd = fs.openSync(this.file, 'a');
  }

  write(line: string): void {
    if (this.fd === undefined) return;
    // A line fits when its UTF-8 form (at most 3 bytes per UTF-16 unit) surely does.
    if (this.size + line.length * 3 > this.buf.length) {
      this.flush();
      if (line.length * 3 > this.buf.length) {
        const big = Buffer.from(line, 'utf8');
        this.enqueue(big);
        return;
      }
    }
    this.size += this.buf.write(line, this.size, 'utf8');
    if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), LOG_FLUSH_MS);
      this.timer.unref();
    }
  }

  /** Hands the buffer to the thread pool; writes stay in order. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.fd === undefined || this.size === 0) return this.writing;
    const data = this.buf.subarray(0, this.size);
    this.buf = Buffer.allocUnsafeSlow(LOG_FLUSH_BYTES);
    this.size = 0;
    return this.enqueue(data);
  }

  private enqueue(data: Buffer): Promise<void> {
    const fd = this.fd!;
    this.writing = this.writing.then(() => writeAll(fd, data));
    return this.writing;
  }

  async close(): Promise<void> {
    await this.flush();
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}

function writeAll(fd: number, data: Buffer): Promise<void> {
  return new Promise<void>((resolve) => {
    const more = (off: number): void => {
      fs.write(fd, data, off, data.length - off, null, (err, n) => {
        if (err || n <= 0 || off + n >= data.length) resolve();
        else more(off + n);
      });
    };
    more(0);
  });
}

/** Escapes what a client sent before it goes into a log line: no controls, no quotes, bounded. */
const UNSAFE = /[\x00-\x1f\x7f-\xff"\\]/;
export function logSafe(text: string, max = 2048): string {
  if (text.length <= max && !UNSAFE.test(text)) return text;
  const cut = text.length > max ? `${text.slice(0, max)}...` : text;
  return cut.replace(/[\x00-\x1f\x7f-\xff"\\]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number) => (n < 10 ? `0${n}` : `${n}`);

let clfSecond = -1;
let clfText = '';
/** "[10/Oct/2000:13:55:36 +0000]" (always UTC), formatted once per second. */
export function clfDate(now = Date.now()): string {
  const second = Math.floor(now / 1000);
  if (second !== clfSecond) {
    const d = new Date(second * 1000);
    clfSecond = second;
    clfText = `[${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(
      d.getUTCMinutes(),
    )}:${pad(d.getUTCSeconds())} +0000]`;
  }
  return clfText;
}

export interface AccessEntry {
  remote: string;
  requestLine: string;
  status: number;
  bytes: number;
  referer?: string | undefined;
  userAgent?: string | undefined;
  /** The TLS client certificate's subject, as the authenticated user (Apache's %u with SSLUserName). */
  user?: string | undefined;
}

function quoted(v: string | undefined): string {
  return v ? `"${logSafe(v, 512)}"` : '"-"';
}

/** One line of the Combined Log Format. */
export function combinedLine(e: AccessEntry, now = Date.now()): string {
  const user = e.user ? `"${logSafe(e.user, 256)}"` : '-';
  const q = quoted;
  return `${e.remote} - ${user} ${clfDate(now)} "${logSafe(e.requestLine)}" ${e.status} ${e.bytes > 0 ? e.bytes : '-'} ${q(e.referer)} ${q(e.userAgent)}\n`;
}

export type LabLogKind = 'INFO' | 'FORBIDDEN' | 'NOT FOUND' | 'ERROR';

let isoSecond = -1;
let isoText = '';

/** One line of the lab's webserver.log: "KIND: <ISO time, seconds> <remote> <message>". */
export function labLine(kind: LabLogKind, remote: string, message: string, now = Date.now()): string {
  const second = Math.floor(now / 1000);
  if (second !== isoSecond) {
    isoSecond = second;
    isoText = new Date(second * 1000).toISOString().replace('.000Z', 'Z');
  }
  return `${kind}: ${isoText} ${remote} ${logSafe(message, 512)}\n`;
}

/** Both logs of one server. */
export class ServerLogs {
  readonly access: BufferedLog;
  readonly lab: BufferedLog;
  constructor(dir: string) {
    this.access = new BufferedLog(path.join(dir, 'access.log'));
    this.lab = new BufferedLog(path.join(dir, 'webserver.log'));
  }
  open(): void {
    this.access.open();
    this.lab.open();
  }
  async close(): Promise<void> {
    await Promise.all([this.access.close(), this.lab.close()]);
  }
}
