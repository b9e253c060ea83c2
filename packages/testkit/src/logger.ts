// A logger that keeps what a server reports, for tests that check a log line or wait for one (a
// server's event, instead of a sleep).
// pino's Logger type, the one @sstt/runtime's logger has (the test kit cannot depend on
// @sstt/runtime: runtime -> scenario -> testkit would be a cycle).
import type { Logger } from 'pino';

export interface LogLine {
  level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';
  msg: string;
  obj: Record<string, unknown>;
}

export interface MemoryLogger {
  log: Logger;
  lines: LogLine[];
  /** Resolves with the first line (kept or to come) that matches; rejects after `timeoutMs`. */
  waitFor(match: (l: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
}

export function memoryLogger(): MemoryLogger {
  const lines: LogLine[] = [];
  const waiting = new Set<(l: LogLine) => void>();
  const put = (level: LogLine['level']) => (obj: unknown, msg?: string) => {
    const line: LogLine = typeof obj === 'string' ? { level, msg: obj, obj: {} } : { level, msg: msg ?? '', obj: (obj ?? {}) as Record<string, unknown> };
    lines.push(line);
    for (const w of waiting) w(line);
  };
  const log: Record<string, unknown> = {
    trace: put('trace'),
    debug: put('debug'),
    info: put('info'),
    warn: put('warn'),
    error: put('error'),
    fatal: put('fatal'),
  };
  log.child = () => log;
  return {
    log: log as unknown as Logger,
    lines,
    waitFor: (match, timeoutMs = 30_000) => {
      const kept = lines.find(match);
      if (kept) return Promise.resolve(kept);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(check);
          reject(new Error(`no such log line after ${timeoutMs} ms; the lines were:\n${lines.map((l) => `${l.level}: ${l.msg}`).join('\n')}`));
        }, timeoutMs);
        const check = (l: LogLine) => {
          if (!match(l)) return;
          clearTimeout(timer);
          waiting.delete(check);
          resolve(l);
        };
        waiting.add(check);
      });
    },
  };
}
