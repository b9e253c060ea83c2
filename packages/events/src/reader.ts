// The read side of the session journal (the console): follows every <app>.jsonl of the
// journal directory, from the rotated .1 file on, and hands each complete line's event on.
// A file that shrank was rotated: it is read again from its start. A torn last line (a batch
// still being written) waits for its newline. Polling (not fs.watch) keeps it simple and
// portable; one stat per file per tick.
import fs from 'node:fs';
import path from 'node:path';
import type { JournalEvent } from './journal.ts';

export const POLL_MS = 250;
/** Most bytes read from one file per tick (a huge backlog is read over several ticks). */
const READ_CHUNK = 1024 * 1024;

export interface JournalReader {
  /** Reads whatever is new now (the timer does this every POLL_MS). */
  poll(): void;
  close(): void;
}

export function followJournal(dir: string, onEvent: (e: JournalEvent) => void, opts: { pollMs?: number } = {}): JournalReader {
  const files = new Map<string, { offset: number; partial: string; ino?: number }>();
  let started = false;

  const readFrom = (file: string, state: { offset: number; partial: string; ino?: number }) => {
    let fd: number;
    try {
      fd = fs.openSync(file, 'r');
    } catch {
      return;
    }
    try {
      const st = fs.fstatSync(fd);
      const size = st.size;
      if (state.ino !== undefined && state.ino !== st.ino) {
        // Rotated since the last tick: finish the old file (now .1) first, then start over.
        const old = { offset: state.offset, partial: state.partial, ino: state.ino };
        try {
          if (fs.statSync(`${file}.1`).ino === state.ino) readFrom(`${file}.1`, old);
        } catch {
          // the rotated file is gone too
        }
        state.offset = 0;
        state.partial = '';
      }
      state.ino = st.ino;
      if (size < state.offset) {
        state.offset = 0;
        state.partial = '';
      }
      while (state.offset < size) {
        const len = Math.min(READ_CHUNK, size - state.offset);
        const buf = Buffer.allocUnsafe(len);
        const n = fs.readSync(fd, buf, 0, len, state.offset);
        if (n <= 0) break;
        state.offset += n;
        const text = state.partial + buf.toString('utf8', 0, n);
        const lines = text.split('\n');
        state.partial = lines.pop() ?? '';
        for (const line of lines) {
          if (!line) continue;
          try {
            onEvent(JSON.parse(line) as JournalEvent);
          } catch {
            // a damaged line is skipped: the journal is an observation, not a record of truth
          }
        }
      }
    } finally {
      fs.closeSync(fd);
    }
  };

  const poll = () => {
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      return;
    }
    if (!started) {
      // First the rotated files (older events), then the current ones.
      started = true;
      for (const n of names.filter((n) => n.endsWith('.jsonl.1'))) readFrom(path.join(dir, n), { offset: 0, partial: '' });
    }
    for (const n of names.filter((n) => n.endsWith('.jsonl'))) {
      const file = path.join(dir, n);
      let state = files.get(file);
      if (!state) {
        state = { offset: 0, partial: '' };
        files.set(file, state);
      }
      readFrom(file, state);
    }
  };
  poll();
  const timer = setInterval(poll, opts.pollMs ?? POLL_MS);
  timer.unref();
  return { poll, close: () => clearInterval(timer) };
}

/** The events in the journal files of `dir` now, oldest first (one poll of a follower): for scripts and tests. */
export function readJournal(dir: string): JournalEvent[] {
  const events: JournalEvent[] = [];
  followJournal(dir, (e) => events.push(e)).close();
  return events;
}
