// Where the user's NSS databases are: Chromium's shared one, each Firefox profile (profiles.ini,
// relative and absolute, and any profile directory with a database; deb, snap, flatpak) and each
// Thunderbird profile; and certutil's listing read back.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '@sstt/testkit';
import { nssDatabases, parseCertList } from './nss.ts';

const tmp = tempDir('sstt-nss-');
afterAll(() => tmp.remove());

function profile(dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'cert9.db'), '');
  return dir;
}

describe('the NSS databases of a home', () => {
  it('finds every profile once, in a fixed order, and says which application has none', () => {
    const home = path.join(tmp.dir, 'home');
    const ff = path.join(home, '.mozilla/firefox');
    const a = profile(path.join(ff, 'a.default-release'));
    const elsewhere = profile(path.join(tmp.dir, 'elsewhere', 'x.work'));
    fs.mkdirSync(path.join(ff, 'never-started'), { recursive: true }); // no cert9.db: not a database yet
    fs.writeFileSync(
      path.join(ff, 'profiles.ini'),
      `[Profile1]\nName=work\nIsRelative=0\nPath=${elsewhere}\n\n[Profile0]\nName=default-release\nIsRelative=1\nPath=a.default-release\nDefault=1\n`,
    );
    const snap = profile(path.join(home, 'snap/firefox/common/.mozilla/firefox/s.default'));
    const chromiumSnap = profile(path.join(home, 'snap/chromium/current/.local/share/pki/nssdb'));
    const { dbs, absent } = nssDatabases(home, 'linux');
    expect(dbs).toEqual([
      // Neither of Chromium's databases exists: ~/.pki/nssdb, which every version reads, is the one to create.
      { app: 'Chromium/Chrome', dir: path.join(home, '.pki/nssdb') },
      { app: 'Chromium (snap)', dir: chromiumSnap },
      { app: 'Firefox', dir: elsewhere },
      { app: 'Firefox', dir: a },
      { app: 'Firefox (snap)', dir: snap },
    ]);
    expect(absent).toEqual(['Thunderbird']);
  });

  it("Chromium M146+'s XDG database, when it is the one that exists, is used and ~/.pki/nssdb is not created beside it", () => {
    const home = path.join(tmp.dir, 'xdg');
    const xdg = profile(path.join(home, '.local/share/pki/nssdb'));
    const ff = profile(path.join(home, '.local/share/mozilla/firefox/p.default-release'));
    expect(nssDatabases(home, 'linux').dbs).toEqual([
      { app: 'Chromium/Chrome', dir: xdg },
      { app: 'Firefox', dir: ff },
    ]);
    const legacy = profile(path.join(home, '.pki/nssdb'));
    expect(nssDatabases(home, 'linux').dbs.slice(0, 2)).toEqual([
      { app: 'Chromium/Chrome', dir: legacy },
      { app: 'Chromium/Chrome', dir: xdg },
    ]);
  });

  it("outside Linux there is no shared database to create (Chromium uses the system's store)", () => {
    const home = path.join(tmp.dir, 'mac');
    const tb = profile(path.join(home, '.thunderbird/t.default'));
    expect(nssDatabases(home, 'darwin')).toEqual({ dbs: [{ app: 'Thunderbird', dir: tb }], absent: ['Firefox'] });
  });
});

describe("certutil's listing", () => {
  it('nickname and trust of each certificate, nicknames with spaces included', () => {
    const listing = [
      '',
      'Certificate Nickname                                         Trust Attributes',
      '                                                             SSL,S/MIME,JAR/XPI',
      '',
      'ca.example.test                                              C,C, ',
      'someone_1234                                                 u,u,u',
      'Some Intermediate CA - G2                                    ,,   ',
      '',
    ].join('\n');
    expect(parseCertList(listing)).toEqual([
      { nickname: 'ca.example.test', trust: 'C,C,' },
      { nickname: 'someone_1234', trust: 'u,u,u' },
      { nickname: 'Some Intermediate CA - G2', trust: ',,' },
    ]);
    expect(parseCertList('\nCertificate Nickname   Trust Attributes\n   SSL,S/MIME,JAR/XPI\n\n')).toEqual([]);
  });
});
