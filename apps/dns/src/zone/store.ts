// The zones being served and their reload: a changed file is read again; if it parses and
// checks, it replaces the zone at once; if not, the old zone keeps serving and the log says
// file:line and why (what `rndc reload` does with a broken zone in BIND).
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '@sstt/runtime';
import { parseMasterFile, ZoneFileError } from './master-file.ts';
import { buildZone, ZoneSet, type Zone } from './zone.ts';

/** Quiet time after a change event before reading the file (editors write in several steps). */
export const RELOAD_DEBOUNCE_MS = 50;

export interface ZoneSource {
  /** Zone apex, with or without the final dot. */
  origin: string;
  /** The master file (also the name used in messages when `text` is given). */
  file: string;
  /** The file's content when it does not come from disk (zones generated from the scenario). */
  text?: string;
}

export interface ZoneStore {
  zones(): ZoneSet;
  /** Start watching the files that came from disk. */
  watch(): void;
  /** Reads every file from disk again now; resolves with the errors (empty when all loaded). */
  reload(): ZoneFileError[];
  close(): void;
}

export function loadZone(src: ZoneSource): Zone {
  const warnings: string[] = [];
  const records = parseMasterFile({ origin: src.origin, file: src.file, warnings, ...(src.text !== undefined ? { text: src.text } : {}) });
  return buildZone(src.origin, src.file, records, warnings);
}

export function createZoneStore(opts: { sources: ZoneSource[]; log?: Logger; onChange?: () => void; debounceMs?: number }): ZoneStore {
  const loaded = opts.sources.map((src) => {
    const zone = loadZone(src);
    for (const w of zone.warnings) opts.log?.warn(w);
    return zone;
  });
  let set = new ZoneSet(loaded);
  const lastText = new Map<string, string>();
  for (const src of opts.sources) if (src.text === undefined) lastText.set(src.file, fs.readFileSync(src.file, 'utf8'));
  const watchers: fs.FSWatcher[] = [];
  const timers = new Map<string, NodeJS.Timeout>();

  function reloadOne(src: ZoneSource): ZoneFileError | undefined {
    let text: string;
    try {
      text = fs.readFileSync(src.file, 'utf8');
    } catch (err) {
      const e = new ZoneFileError(src.file, 0, `cannot read: ${(err as NodeJS.ErrnoException).code ?? err}`);
      opts.log?.error({ file: src.file }, `${e.message}; still serving the previous zone`);
      return e;
    }
    if (lastText.get(src.file) === text) return undefined;
    try {
      const zone = loadZone({ ...src, text });
      for (const w of zone.warnings) opts.log?.warn(w);
      set = set.with(zone);
      lastText.set(src.file, text);
      opts.log?.info({ zone: zone.origin, serial: zone.serial, file: src.file }, 'zone reloaded');
      opts.onChange?.();
      return undefined;
    } catch (err) {
      if (!(err instanceof ZoneFileError)) throw err;
      opts.log?.error({ file: err.file, line: err.line }, `${err.message}; still serving the previous zone`);
      return err;
    }
  }

  return {
    zones: () => set,
    reload() {
      const errors: ZoneFileError[] = [];
      for (const src of opts.sources) {
        if (src.text !== undefined) continue;
        const e = reloadOne(src);
        if (e) errors.push(e);
      }
      return errors;
    },
    watch() {
      const byDir = new Map<string, ZoneSource[]>();
      for (const src of opts.sources) {
        if (src.text !== undefined) continue;
        const dir = path.dirname(path.resolve(src.file));
        byDir.set(dir, [...(byDir.get(dir) ?? []), src]);
      }
      // The directory, not the file: editors and `mv` replace the file, which ends a file watch.
      for (const [dir, srcs] of byDir) {
        const w = fs.watch(dir, { persistent: false }, (_event, name) => {
          for (const src of srcs) {
            if (name && name.toString() !== path.basename(src.file)) continue;
            clearTimeout(timers.get(src.file));
            const t = setTimeout(() => {
              timers.delete(src.file);
              reloadOne(src);
            }, opts.debounceMs ?? RELOAD_DEBOUNCE_MS);
            t.unref();
            timers.set(src.file, t);
          }
        });
        w.on('error', (err) => opts.log?.warn({ dir, err: String(err) }, 'cannot watch zone directory'));
        watchers.push(w);
      }
    },
    close() {
      for (const w of watchers) w.close();
      for (const t of timers.values()) clearTimeout(t);
    },
  };
}
