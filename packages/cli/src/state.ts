// The record of what `sstt trust` and `sstt resolve` changed on this machine, one file per checkout
// (var/host/state.json): the teardown reads it, nothing is ever removed by pattern (STYLE.md §18).
// Each change is recorded BEFORE it is made (written to a temporary file, fsynced, renamed into
// place), so after a crash between two stores `untrust` / `resolve --undo` knows everything that may
// have happened. Undo checks each recorded item against the machine (a file's digest, a
// certificate's DER) before removing it, and only at the places this ID's own commands write to, so
// a record edited by hand cannot make root delete anything else.
//
// This module is light on purpose (fs and path only): `npm run dev` reads it for the banner's hint.
import fs from 'node:fs';
import path from 'node:path';
import type { HostSetup, Scenario } from '@sstt/scenario';
import { HostError } from './errors.ts';

/** How `resolve` made the host resolve the domain (resolve.ts). */
export type ResolveMethod = 'delegate' | 'dnsmasq' | 'macos' | 'hosts';
/** Which system trust store: Debian's update-ca-certificates or Fedora's update-ca-trust. */
export type SystemFlavor = 'debian' | 'fedora';

/** One thing sstt did to the machine. */
export type Change =
  /** The CA as a file among the system's anchors, taken in by the flavor's update tool. */
  | { kind: 'system-anchor'; flavor: SystemFlavor; file: string; sha256: string }
  /** An NSS database sstt created (Chromium's ~/.pki/nssdb on a machine where it never ran) and the directories it made for it. */
  | { kind: 'nss-db'; db: string; dirs: string[]; uid: number; gid: number }
  /** A certificate sstt imported into an NSS database: the CA, or a user's client certificate with its key. */
  | { kind: 'nss-cert'; db: string; app: string; nickname: string; sha256: string; withKey: boolean; uid: number; gid: number }
  /** The CA in a Java keystore (keytool). */
  | { kind: 'java-cert'; keystore: string; alias: string; sha256: string }
  /** A file sstt wrote (a resolver's drop-in), with the digest of what it wrote. */
  | { kind: 'file'; file: string; sha256: string }
  /** A directory sstt created for such a file (removed again only when empty). */
  | { kind: 'dir'; dir: string }
  /** The marked block sstt added to a hosts file, exactly as inserted. */
  | { kind: 'hosts-block'; file: string; inserted: string };

export interface TrustRecord {
  /** The user whose client certificate `--client` imported. */
  client?: string;
  changes: Change[];
}

export interface ResolveRecord {
  method: ResolveMethod;
  changes: Change[];
}

export interface HostState {
  version: 1;
  id: string;
  domain: string;
  /** Present from the moment `trust` starts until `untrust` has removed everything. */
  trust?: TrustRecord;
  /** Present from the moment `resolve` starts until `resolve --undo` has removed everything. */
  resolve?: ResolveRecord;
}

export type Section = 'trust' | 'resolve';

/** Where the record of this checkout is: under the data directory (var/), beside the lab's own state. */
export function hostStatePath(s: Scenario): string {
  return path.join(s.paths.data, 'host', 'state.json');
}

/** A path as the user knows it: relative to the checkout when inside it. */
export function shown(s: Scenario, p: string): string {
  const r = path.relative(s.paths.root, p);
  return r && !r.startsWith('..') && !path.isAbsolute(r) ? r : p;
}

/** The state file's content, or undefined when there is none; a broken file is a HostError. */
export function readHostState(file: string): HostState | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new HostError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new HostError(`${file} is not the JSON sstt writes: move it away only if you know nothing is installed`);
  }
  const st = data as Partial<HostState>;
  if (st.version !== 1 || typeof st.id !== 'string' || typeof st.domain !== 'string') {
    throw new HostError(`${file} is not a state file of this version of sstt (version ${JSON.stringify(st.version)})`);
  }
  return st as HostState;
}

/** What the banner needs: has `trust` / `resolve` run for this ID (and not been undone)? Never throws. */
export function hostSetup(s: Scenario): HostSetup {
  try {
    const st = readHostState(hostStatePath(s));
    const mine = st?.id === s.id;
    return { trusted: mine && st.trust !== undefined, resolved: mine && st.resolve !== undefined };
  } catch {
    return { trusted: false, resolved: false };
  }
}

/** Who owns what sstt creates under the checkout when it runs under sudo (the invoking user). */
export interface Owner {
  uid: number;
  gid: number;
}

/** The open record: every change goes through `record` before it is made. */
export class HostStateFile {
  private constructor(
    readonly file: string,
    private state: HostState,
    private readonly owner: Owner | undefined,
  ) {}

  /**
   * Opens the record of this checkout for `s`'s ID. A record of another ID is refused with the
   * commands that undo it: two IDs' changes in one record could not be undone apart.
   */
  static open(s: Scenario, owner?: Owner): HostStateFile {
    const file = hostStatePath(s);
    const st = readHostState(file);
    if (st && st.id !== s.id && (st.trust || st.resolve)) {
      const undo = [...(st.trust ? [`npx sstt untrust --id ${st.id}`] : []), ...(st.resolve ? [`npx sstt resolve --undo --id ${st.id}`] : [])];
      throw new HostError(`${shown(s, file)} records what sstt did for ID ${st.id} (${st.domain}), not ${s.id}: undo that first with ${undo.join(' and ')}`);
    }
    return new HostStateFile(file, st && st.id === s.id ? st : { version: 1, id: s.id, domain: s.domain }, owner);
  }

  section(which: 'trust'): TrustRecord | undefined;
  section(which: 'resolve'): ResolveRecord | undefined;
  section(which: Section): TrustRecord | ResolveRecord | undefined {
    return this.state[which];
  }

  /** Marks the command as started (before its first change), e.g. `{ method }` for resolve. */
  begin(which: 'trust', init: Omit<TrustRecord, 'changes'>): void;
  begin(which: 'resolve', init: Omit<ResolveRecord, 'changes'>): void;
  begin(which: Section, init: object): void {
    const current = this.state[which] as { changes: Change[] } | undefined;
    this.state = { ...this.state, [which]: { ...current, ...init, changes: current?.changes ?? [] } };
    this.save();
  }

  /** Records a change before it is made. */
  record(which: Section, change: Change): void {
    this.changes(which).push(change);
    this.save();
  }

  /** Forgets a change: it did not happen (the attempt failed) or it has been undone. */
  forget(which: Section, change: Change): void {
    const list = this.changes(which);
    const i = list.indexOf(change);
    if (i >= 0) list.splice(i, 1);
    this.save();
  }

  /** Ends a command's record once everything it did is undone; the file goes when both are gone. */
  end(which: Section): void {
    const { [which]: _gone, ...rest } = this.state;
    this.state = rest as HostState;
    this.save();
  }

  private changes(which: Section): Change[] {
    const sec = this.state[which];
    if (!sec) throw new Error(`sstt: ${which} was not begun`);
    return sec.changes;
  }

  /** Writes the record; a directory the user cannot write is their mistake to fix (sudo), not a crash. */
  private save(): void {
    try {
      this.write();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') throw new HostError(`cannot write ${this.file} (${code}): run sstt with sudo`);
      throw err;
    }
  }

  /** Atomic write: a temporary file, fsync, rename, fsync of the directory; no file once nothing is recorded. */
  private write(): void {
    const dir = path.dirname(this.file);
    if (!this.state.trust && !this.state.resolve) {
      fs.rmSync(this.file, { force: true });
      try {
        fs.rmdirSync(dir);
      } catch {
        // not empty, or already gone: leave it
      }
      return;
    }
    this.mkdirOwned(dir);
    const tmp = `${this.file}.${process.pid}.tmp`;
    const fd = fs.openSync(tmp, 'w', 0o644);
    try {
      fs.writeSync(fd, `${JSON.stringify(this.state, null, 2)}\n`);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, this.file);
    const dfd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(dfd);
    } finally {
      fs.closeSync(dfd);
    }
  }

  /** mkdir -p; under sudo the directories it makes belong to the invoking user, so `npm run dev` can still write var/. */
  private mkdirOwned(dir: string): void {
    if (fs.existsSync(dir)) return;
    this.mkdirOwned(path.dirname(dir));
    fs.mkdirSync(dir);
    if (this.owner) fs.chownSync(dir, this.owner.uid, this.owner.gid);
  }
}
