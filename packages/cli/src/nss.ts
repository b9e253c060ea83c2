// The NSS databases of the invoking user: Chromium and Chrome on Linux read one shared database,
// ~/.pki/nssdb, or from M146 on ~/.local/share/pki/nssdb when the old one does not exist (a
// Chromium of any version reads ~/.pki/nssdb when it is there, so that is the one created here when
// neither exists); each Firefox and Thunderbird profile has its own cert9.db (the deb, snap and
// flatpak locations, and the XDG ones of Firefox 147+). The CA goes in
// with trust for servers and mail ("C,C,"); `--client` adds a user's .p12 (key and certificate) so
// the browser can present it. NSS's own tools do the work (certutil, pk12util), run as that user.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findTool, run, type RunOptions } from '@sstt/host';
import { certPaths } from '@sstt/scenario';
import { derSha256, pemCertificates } from './ca.ts';
import { recorded, recordThenDo, type StepContext, type TrustContext } from './context.ts';
import { mkdirs, rmdirsIfEmpty } from './files.ts';
import { asInvoker } from './invoker.ts';
import { caNickname } from './paths.ts';
import type { Change } from './state.ts';

export interface NssDb {
  /** Which program reads it, as the output names it. */
  app: string;
  dir: string;
}

/** Where each application keeps its profiles, under the user's home (deb, snap, flatpak; the XDG location of recent Firefox). */
const PROFILE_ROOTS: Array<{ app: string; rel: string }> = [
  { app: 'Firefox', rel: '.mozilla/firefox' },
  { app: 'Firefox', rel: '.config/mozilla/firefox' },
  { app: 'Firefox', rel: '.local/share/mozilla/firefox' },
  { app: 'Firefox (snap)', rel: 'snap/firefox/common/.mozilla/firefox' },
  { app: 'Firefox (flatpak)', rel: '.var/app/org.mozilla.firefox/.mozilla/firefox' },
  { app: 'Thunderbird', rel: '.thunderbird' },
  { app: 'Thunderbird (snap)', rel: 'snap/thunderbird/common/.thunderbird' },
  { app: 'Thunderbird (flatpak)', rel: '.var/app/org.mozilla.Thunderbird/.thunderbird' },
];

/** Chromium's and Chrome's shared database on Linux, where any version reads it: the one sstt creates when there is none. */
export const chromiumDb = (home: string): string => path.join(home, '.pki', 'nssdb');

/** Where Chromium M146+ keeps it when ~/.pki/nssdb does not exist (XDG data directory). */
const chromiumXdgDb = (home: string): string => path.join(home, '.local', 'share', 'pki', 'nssdb');

const isDb = (dir: string) => fs.existsSync(path.join(dir, 'cert9.db'));

/** Profile directories under one root: profiles.ini's Path= entries, and any subdirectory with a cert9.db. */
export function profilesUnder(root: string): string[] {
  const found: string[] = [];
  try {
    const ini = fs.readFileSync(path.join(root, 'profiles.ini'), 'utf8');
    for (const section of ini.split(/^\[/m)) {
      const p = /^Path=(.+)$/m.exec(section)?.[1]?.trim();
      if (!p) continue;
      const relative = /^IsRelative=1\s*$/m.test(section);
      found.push(relative ? path.join(root, p) : p);
    }
  } catch {
    // no profiles.ini: the subdirectories alone
  }
  try {
    for (const e of fs.readdirSync(root, { withFileTypes: true })) if (e.isDirectory()) found.push(path.join(root, e.name));
  } catch {
    return [];
  }
  const seen = new Set<string>();
  return found.filter((d) => {
    if (!isDb(d)) return false;
    const real = fs.realpathSync(d);
    if (seen.has(real)) return false;
    seen.add(real);
    return true;
  });
}

/**
 * Every NSS database of the user: Chromium's shared one (Linux; created when missing), the snap
 * Chromium's, each Firefox and Thunderbird profile. `absent` names the applications without any.
 */
export function nssDatabases(home: string, platform: NodeJS.Platform = os.platform()): { dbs: NssDb[]; absent: string[] } {
  const dbs: NssDb[] = [];
  if (platform === 'linux') {
    // Each one that exists; ~/.pki/nssdb created only when neither does (creating it beside an
    // existing XDG database would hide that one from Chromium).
    const legacy = chromiumDb(home);
    const xdg = chromiumXdgDb(home);
    if (isDb(legacy) || !isDb(xdg)) dbs.push({ app: 'Chromium/Chrome', dir: legacy });
    if (isDb(xdg)) dbs.push({ app: 'Chromium/Chrome', dir: xdg });
  }
  for (const rel of ['snap/chromium/current/.pki/nssdb', 'snap/chromium/current/.local/share/pki/nssdb']) {
    if (isDb(path.join(home, rel))) dbs.push({ app: 'Chromium (snap)', dir: path.join(home, rel) });
  }
  for (const { app, rel } of PROFILE_ROOTS) for (const dir of profilesUnder(path.join(home, rel))) dbs.push({ app, dir });
  const absent = ['Firefox', 'Thunderbird'].filter((a) => !dbs.some((d) => d.app.startsWith(a)));
  return { dbs, absent };
}

/** Certificates of a `certutil -L` listing: nickname and trust flags. */
export function parseCertList(listing: string): Array<{ nickname: string; trust: string }> {
  const out: Array<{ nickname: string; trust: string }> = [];
  for (const line of listing.split('\n').slice(4)) {
    const m = /^(.+?)\s+([a-zA-Z]*,[a-zA-Z]*,[a-zA-Z]*)\s*$/.exec(line);
    if (m) out.push({ nickname: m[1]!, trust: m[2]! });
  }
  return out;
}

/** NSS's tools on one database, run as the invoking user. */
export class NssTools {
  private constructor(
    private readonly certutil: string,
    private readonly pk12util: string,
    private readonly as: RunOptions,
  ) {}

  static find(as: RunOptions): NssTools | undefined {
    const certutil = findTool('certutil');
    const pk12util = findTool('pk12util');
    return certutil && pk12util ? new NssTools(certutil, pk12util, as) : undefined;
  }

  private certutilRun(db: string, args: string[], input?: string) {
    return run(this.certutil, ['-d', `sql:${db}`, ...args], { ...this.as, ...(input !== undefined ? { input } : {}) });
  }

  async create(db: string): Promise<void> {
    const r = await this.certutilRun(db, ['-N', '--empty-password']);
    if (r.code !== 0) throw new Error(`certutil -N: ${r.stderr.trim() || `exit ${r.code}`}`);
  }

  async list(db: string): Promise<Array<{ nickname: string; trust: string }>> {
    const r = await this.certutilRun(db, ['-L']);
    if (r.code !== 0) throw new Error(`certutil -L: ${r.stderr.trim() || `exit ${r.code}`}`);
    return parseCertList(r.stdout);
  }

  /** The DER of every certificate under a nickname (none when there is no such nickname). */
  async certs(db: string, nickname: string): Promise<Buffer[]> {
    const r = await this.certutilRun(db, ['-L', '-n', nickname, '-a']);
    return r.code === 0 ? pemCertificates(r.stdout) : [];
  }

  /** The nickname under which the certificate with this DER digest is, if it is there. */
  async find(db: string, sha256: string): Promise<string | undefined> {
    for (const { nickname } of await this.list(db)) if ((await this.certs(db, nickname)).some((der) => derSha256(der) === sha256)) return nickname;
    return undefined;
  }

  async addCa(db: string, nickname: string, pem: string): Promise<void> {
    // "C,C,": a CA trusted to issue server certificates (SSL) and mail certificates (S/MIME).
    const r = await this.certutilRun(db, ['-A', '-n', nickname, '-t', 'C,C,', '-a'], pem);
    if (r.code !== 0) throw new Error(`certutil -A: ${r.stderr.trim() || `exit ${r.code}`}`);
  }

  async importP12(db: string, file: string, password: string): Promise<void> {
    // -K '': the database's own password, empty as browsers create it.
    const r = await run(this.pk12util, ['-i', file, '-d', `sql:${db}`, '-W', password, '-K', ''], this.as);
    if (r.code !== 0) throw new Error(`pk12util: ${(r.stderr || r.stdout).trim()}`);
  }

  /** Deletes a certificate and, with `withKey`, its private key. */
  async remove(db: string, nickname: string, withKey: boolean): Promise<void> {
    const r = await this.certutilRun(db, [withKey ? '-F' : '-D', '-n', nickname]);
    if (r.code !== 0) throw new Error(`certutil ${withKey ? '-F' : '-D'}: ${r.stderr.trim() || `exit ${r.code}`}`);
  }

  /** No certificate and no key: what certutil -N made. */
  async isEmpty(db: string): Promise<boolean> {
    const keys = await this.certutilRun(db, ['-K']);
    return (await this.list(db)).length === 0 && /no keys found/.test(keys.stderr + keys.stdout);
  }
}

const home = (ctx: StepContext, p: string) => (p.startsWith(`${ctx.inv.home}/`) ? `~/${path.relative(ctx.inv.home, p)}` : p);

/** The CA, and with `client` that user's certificate and key, into every NSS database of the user. */
export async function trustNss(ctx: TrustContext, client: string | undefined): Promise<void> {
  const tools = NssTools.find(asInvoker(ctx.inv));
  if (!tools) {
    ctx.say('Chromium, Firefox, Thunderbird: certutil and pk12util are not installed (apt-get install libnss3-tools); nothing done');
    return;
  }
  const { dbs, absent } = nssDatabases(ctx.inv.home);
  const p12 = client ? await p12ForInvoker(ctx, client) : undefined;
  try {
    for (const db of dbs) ctx.say(`${db.app} (${home(ctx, db.dir)}): ${await intoDb(ctx, tools, db, client, p12?.file)}`);
  } finally {
    p12?.remove();
  }
  for (const app of absent) ctx.say(`${app}: no profile found; start it once, then run sstt trust again`);
}

/** What happened in one database, as one phrase. */
async function intoDb(ctx: TrustContext, tools: NssTools, db: NssDb, client: string | undefined, p12: string | undefined): Promise<string> {
  const { uid, gid } = ctx.inv;
  const done: string[] = [];
  try {
    if (!isDb(db.dir)) {
      const dirs = mkdirsPlan(db.dir);
      await recordThenDo(ctx, 'trust', { kind: 'nss-db', db: db.dir, dirs, uid, gid }, async () => {
        const made = mkdirs(db.dir);
        for (const d of made) {
          if (ctx.inv.root) fs.chownSync(d, uid, gid);
          fs.chmodSync(d, 0o700);
        }
        try {
          await tools.create(db.dir);
        } catch (err) {
          // The record goes with the failure: so must the directories (certutil -N leaves none of its files behind).
          rmdirsIfEmpty(made);
          throw err;
        }
      });
      done.push('database created');
    }
    done.push(await oneCert(ctx, tools, db, caNickname(ctx.s), ctx.ca.sha256, false, () => tools.addCa(db.dir, caNickname(ctx.s), ctx.ca.pem)));
    if (client && p12) {
      const der = pemCertificates(fs.readFileSync(certPaths(ctx.s).client(client).cert, 'utf8'))[0]!;
      done.push(await oneCert(ctx, tools, db, client, derSha256(der), true, () => tools.importP12(db.dir, p12, ctx.s.pki.p12Password)));
    }
  } catch (err) {
    done.push(`failed: ${(err as Error).message}`);
  }
  return done.join(', ');
}

/** The directories mkdirs would make for `dir` (so the record lists them before they exist). */
function mkdirsPlan(dir: string): string[] {
  return fs.existsSync(dir) ? [] : [...mkdirsPlan(path.dirname(dir)), dir];
}

/** One certificate into one database: recorded before the import; left alone when someone else put it there. */
async function oneCert(
  ctx: TrustContext,
  tools: NssTools,
  db: NssDb,
  nickname: string,
  sha256: string,
  withKey: boolean,
  add: () => Promise<void>,
): Promise<string> {
  const what = withKey ? `client certificate ${nickname}` : 'CA';
  const mine = recorded(ctx, 'trust', 'nss-cert', (c) => c.db === db.dir && c.nickname === nickname && c.sha256 === sha256);
  const present = await tools.find(db.dir, sha256);
  if (present) return mine ? `${what} already there` : `${what} already there as "${present}" (not put there by sstt, so it is left alone)`;
  if ((await tools.certs(db.dir, nickname)).length > 0) return `another certificate is named "${nickname}" there: ${what} not added`;
  const change: Change = { kind: 'nss-cert', db: db.dir, app: db.app, nickname, sha256, withKey, uid: ctx.inv.uid, gid: ctx.inv.gid };
  if (mine) await add();
  else await recordThenDo(ctx, 'trust', change, add);
  return `${what} added`;
}

/**
 * The user's .p12 where NSS's tools, running as the invoking user, can read it: a copy in a private
 * temporary directory of theirs (certs/ may have been minted by root).
 */
async function p12ForInvoker(ctx: TrustContext, client: string): Promise<{ file: string; remove(): void }> {
  const src = certPaths(ctx.s).client(client).p12;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sstt-p12-'));
  const file = path.join(dir, path.basename(src));
  fs.copyFileSync(src, file);
  fs.chmodSync(file, 0o600);
  if (ctx.inv.root) {
    fs.chownSync(dir, ctx.inv.uid, ctx.inv.gid);
    fs.chownSync(file, ctx.inv.uid, ctx.inv.gid);
  }
  return { file, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Undoes one recorded NSS change; false when it could not be (kept in the record). */
export async function untrustNss(ctx: StepContext, change: Extract<Change, { kind: 'nss-cert' | 'nss-db' }>): Promise<boolean> {
  const where = `${change.kind === 'nss-cert' ? change.app : 'NSS database'} (${home(ctx, change.db)})`;
  // Only the database's own directory and its parents inside the home, whatever the record says.
  const ownDirs = (c: Extract<Change, { kind: 'nss-db' }>) =>
    c.dirs.filter((d) => (d === c.db || c.db.startsWith(`${d}/`)) && d.startsWith(`${ctx.inv.home}/`));
  if (!isDb(change.db)) {
    // A crash between mkdir and certutil -N leaves the directories without a database.
    if (change.kind === 'nss-db' && change.db === chromiumDb(ctx.inv.home)) {
      const kept = rmdirsIfEmpty(ownDirs(change));
      ctx.say(`${where}: no database; removed the directories sstt made for it${kept.length ? ` (kept ${kept.join(', ')}: not empty)` : ''}`);
      return true;
    }
    ctx.say(`${where}: the database is gone`);
    return true;
  }
  if (!nssDatabases(ctx.inv.home).dbs.some((d) => d.dir === change.db)) {
    ctx.say(`${where}: not one of ${ctx.inv.user}'s databases: run npx sstt untrust as the user it belongs to`);
    return false;
  }
  if (change.uid !== ctx.inv.uid && !ctx.inv.root) {
    ctx.say(`${where}: belongs to uid ${change.uid}: run sudo npx sstt untrust`);
    return false;
  }
  const tools = NssTools.find(asInvoker({ ...ctx.inv, uid: change.uid, gid: change.gid }));
  if (!tools) {
    ctx.say(`${where}: certutil is gone (apt-get install libnss3-tools, then npx sstt untrust again)`);
    return false;
  }
  if (change.kind === 'nss-db') {
    if (change.db !== chromiumDb(ctx.inv.home)) {
      ctx.say(`${where}: not the database sstt creates: left alone`);
      return true;
    }
    if (!(await tools.isEmpty(change.db))) {
      ctx.say(`${where}: sstt created it, but it holds other certificates now: kept`);
      return true;
    }
    for (const f of ['cert9.db', 'key4.db', 'pkcs11.txt']) fs.rmSync(path.join(change.db, f), { force: true });
    const kept = rmdirsIfEmpty(ownDirs(change));
    ctx.say(`${where}: removed the database sstt created${kept.length ? ` (kept ${kept.join(', ')}: not empty)` : ''}`);
    return true;
  }
  const ders = await tools.certs(change.db, change.nickname);
  if (!ders.some((d) => derSha256(d) === change.sha256)) {
    ctx.say(`${where}: ${change.nickname} is not there any more`);
    return true;
  }
  if (ders.length > 1) {
    ctx.say(`${where}: several certificates are named ${change.nickname}; remove the one sstt added by hand (certutil -D)`);
    return false;
  }
  await tools.remove(change.db, change.nickname, change.withKey);
  ctx.say(`${where}: removed ${change.withKey ? `client certificate ${change.nickname} and its key` : 'the CA'}`);
  return true;
}
