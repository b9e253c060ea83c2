// The record of exactly what this lab created (containerlab keeps one per lab): namespaces,
// /etc/netns directories, and the processes it started with their start times. `down` reads it
// and removes those and nothing else: it never kills by name and never touches a namespace it did
// not create. Every process the lab started lives in one of its namespaces, so `ip netns pids`
// of those namespaces finds daemons that forked away too.
import fs from 'node:fs';
import path from 'node:path';

export interface LabState {
  prefix: string;
  startedAt: string;
  namespaces: string[];
  /** Directories created below /etc/netns (ip netns exec mounts their files over /etc). */
  etcDirs: string[];
  processes: Array<{ pid: number; starttime: string; what: string }>;
  ipsec: 'kernel' | 'libipsec' | 'off';
  variant: 'stroke' | 'vici';
  /** servidor runs the real programs (`--reference`), not sstt's apps. */
  reference?: boolean;
}

export function readState(file: string): LabState | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as LabState;
  } catch {
    return undefined;
  }
}

export function writeState(file: string, state: LabState): void {
  // path.dirname, not a file: URL's pathname, which percent-encodes (a checkout under `/home/a b/`).
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`);
  fs.renameSync(tmp, file);
}

/** Field 22 of /proc/<pid>/stat: with the pid it names one process across pid reuse. */
export function starttimeOf(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/**
 * The state file of a lab being built, written after each thing it creates, so that a build
 * that dies half-way leaves a record `down` can read.
 */
export class LabRecord {
  constructor(
    readonly file: string,
    readonly state: LabState,
  ) {
    this.save();
  }

  save(): void {
    writeState(this.file, this.state);
  }

  namespace(ns: string): void {
    this.state.namespaces.push(ns);
    this.save();
  }

  etcDir(dir: string): void {
    this.state.etcDirs.push(dir);
    this.save();
  }

  process(pid: number | undefined, what: string): void {
    if (pid) this.state.processes.push({ pid, starttime: starttimeOf(pid) ?? '', what });
    this.save();
  }
}
