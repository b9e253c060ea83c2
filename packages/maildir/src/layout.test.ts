import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '@sstt/testkit';
import { ensureFolder, ensureMaildir, folderDir, folderOf, isFolderName, JUNK_FOLDER, SPECIAL_USE } from './layout.ts';

const t = tempDir('sstt-maildir-layout-');
afterAll(() => t.remove());

describe('Maildir++ folders', () => {
  it('INBOX is the Maildir itself, any other folder a ".Name" directory, "." between levels', () => {
    expect(folderDir('/m', 'INBOX')).toBe('/m');
    expect(folderDir('/m', 'inbox')).toBe('/m');
    expect(folderDir('/m', 'Sent')).toBe('/m/.Sent');
    expect(folderDir('/m', 'Lists.sstt')).toBe('/m/.Lists.sstt');
    expect(folderDir('/m', JUNK_FOLDER)).toBe('/m/.Junk');
    expect(Object.keys(SPECIAL_USE).map((f) => folderDir('/m', f))).toEqual(['/m/.Sent', '/m/.Drafts', '/m/.Trash', '/m/.Junk']);
  });

  it('round trip: the directory entry of a folder names that folder', () => {
    for (const f of ['Sent', 'Lists.sstt', 'Año', '&AMk-t&AOk-']) expect(folderOf(path.basename(folderDir('/m', f)))).toBe(f);
  });

  it('refuses names that are no folder, exactly', () => {
    for (const bad of ['', '.Sent', 'Sent.', 'a..b', '../x', 'a/b', 'tab\there', 'INBOX']) expect(isFolderName(bad)).toBe(false);
    expect(() => folderDir('/m', '../etc')).toThrow('not a Maildir++ folder name: "../etc"');
    expect(() => folderDir('/m', 'a..b')).toThrow('not a Maildir++ folder name: "a..b"');
    for (const entry of ['cur', 'new', 'tmp', '.', '..', '...', '.a..b', 'dovecot-uidlist', '.INBOX']) expect(folderOf(entry)).toBeUndefined();
  });

  it('ensureFolder creates tmp/new/cur (0700) and the maildirfolder mark; INBOX gets no mark', async () => {
    const md = path.join(t.dir, 'u', 'Maildir');
    await ensureMaildir(md);
    const junk = await ensureFolder(md, JUNK_FOLDER);
    expect(junk).toBe(path.join(md, '.Junk'));
    expect(fs.readdirSync(junk).sort()).toEqual(['cur', 'maildirfolder', 'new', 'tmp']);
    for (const sub of ['tmp', 'new', 'cur']) expect((fs.statSync(path.join(junk, sub)).mode & 0o777).toString(8)).toBe('700');
    // again: nothing changes, the mark stays empty
    await ensureFolder(md, JUNK_FOLDER);
    expect(fs.readFileSync(path.join(junk, 'maildirfolder'), 'utf8')).toBe('');
    expect(await ensureFolder(md, 'INBOX')).toBe(md);
    expect(fs.readdirSync(md).sort()).toEqual(['.Junk', 'cur', 'new', 'tmp']);
  });
});
