import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '@sstt/testkit';
import { FileStore, parseRange, resolveTarget } from './files.ts';
import { mimeTypeOf } from './mime.ts';

describe('resolveTarget', () => {
  it.each([
    ['/', '', true],
    ['/index.html', 'index.html', false],
    ['/a/./b.html', 'a/b.html', false],
    ['//a//b.html', 'a/b.html', false],
    ['/sub/', 'sub', true],
    ['/a%20b.html?q=1#f', 'a b.html', false],
    ['/%C3%B1.html', 'ñ.html', false],
    ['http://www.example/x.html', 'x.html', false],
    ['HTTP://h', '', true],
    ['/%252e%252e/x.html', '%2e%2e/x.html', false],
  ])('%s → %s', (target, relPath, isDirPath) => {
    expect(resolveTarget(target)).toEqual({ kind: 'ok', relPath, isDirPath });
  });

  it.each([
    '/../etc/passwd',
    '/a/../../x',
    '/a/..',
    '/%2e%2e/etc/passwd',
    '/%2E%2E/etc/passwd',
    '/.%2e/x',
    '/%2e./x',
    '/a%2f..%2f..%2fx',
    '/..%2fx',
    '/%2fetc/passwd',
    '/a\\..\\x',
    '/..\\x',
    '/a%5c..%5cx',
    '/index.html%00.jpg',
    '/a/../index.html',
  ])('403 for %s', (target) => {
    expect(resolveTarget(target).kind).toBe('forbidden');
  });

  it.each(['index.html', '*', '/%zz', '/%e9.html', '/%'])('400 for %s', (target) => {
    expect(resolveTarget(target).kind).toBe('bad');
  });
});

describe('mimeTypeOf', () => {
  it('knows the lab table with the real types, case-insensitive', () => {
    expect(mimeTypeOf('a.JPG')).toBe('image/jpeg');
    expect(mimeTypeOf('x/a.tar')).toBe('application/x-tar');
    expect(mimeTypeOf('a.gz')).toBe('application/gzip');
    expect(mimeTypeOf('a.zip')).toBe('application/zip');
    expect(mimeTypeOf('a.wasm')).toBe('application/wasm');
  });
  it('has nothing for other extensions, no extension, dot files', () => {
    expect(mimeTypeOf('a.exe')).toBeUndefined();
    expect(mimeTypeOf('README')).toBeUndefined();
    expect(mimeTypeOf('dir.d/README')).toBeUndefined();
    expect(mimeTypeOf('.html')).toBeUndefined();
  });
});

describe('parseRange', () => {
  it.each([
    ['bytes=0-9', { kind: 'range', start: 0, end: 9 }],
    ['bytes=10-', { kind: 'range', start: 10, end: 99 }],
    ['bytes=-10', { kind: 'range', start: 90, end: 99 }],
    ['bytes=-1000', { kind: 'range', start: 0, end: 99 }],
    ['bytes=90-1000', { kind: 'range', start: 90, end: 99 }],
    ['bytes=100-', { kind: 'unsatisfiable' }],
    ['bytes=-0', { kind: 'unsatisfiable' }],
    ['bytes=0-1,5-6', { kind: 'none' }],
    ['bytes=9-1', { kind: 'none' }],
    ['items=0-1', { kind: 'none' }],
    ['bytes=-', { kind: 'none' }],
  ])('%s of 100 bytes', (h, want) => {
    expect(parseRange(h, 100)).toEqual(want);
  });
});

describe('FileStore', () => {
  const t = tempDir('sstt-http-files-');
  const root = path.join(t.dir, 'www');
  let store: FileStore;
  beforeAll(() => {
    fs.mkdirSync(path.join(root, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(root, 'a.html'), 'AAAA');
    fs.writeFileSync(path.join(root, 'big.zip'), Buffer.alloc(3000));
    fs.writeFileSync(path.join(t.dir, 'secret.txt'), 'SECRET');
    fs.mkdirSync(path.join(t.dir, 'www-evil'));
    fs.writeFileSync(path.join(t.dir, 'www-evil', 'x.html'), 'SECRET');
    fs.symlinkSync(path.join(t.dir, 'secret.txt'), path.join(root, 'out.txt'));
    fs.symlinkSync(path.join(t.dir, 'www-evil'), path.join(root, 'evil'));
    fs.symlinkSync('a.html', path.join(root, 'in.html'));
    fs.writeFileSync(path.join(root, 'noext'), 'x');
    store = new FileStore(root, 1024, undefined, 0);
  });
  afterAll(() => t.remove());

  it('finds a file, with validators and a cached body', () => {
    const r = store.lookup('a.html');
    expect(r.kind).toBe('file');
    if (r.kind !== 'file') return;
    expect(r.entry.body?.toString()).toBe('AAAA');
    expect(r.entry.mime).toBe('text/html; charset=utf-8');
    expect(r.entry.etag).toMatch(/^"[0-9a-f]+-4"$/);
    expect(r.entry.lastModified).toMatch(/ GMT$/);
  });

  it('revalidates the cache when the file changes', () => {
    const before = store.lookup('a.html');
    fs.writeFileSync(path.join(root, 'a.html'), 'BBBBBB');
    const after = store.lookup('a.html');
    expect(after.kind === 'file' && after.entry.body?.toString()).toBe('BBBBBB');
    expect(before.kind === 'file' && after.kind === 'file' && before.entry.etag !== after.entry.etag).toBe(true);
  });

  it('trusts a cached entry for the validation window, then sees the change', () => {
    const windowed = new FileStore(root, 1024, undefined, 60_000);
    fs.writeFileSync(path.join(root, 'w.html'), 'one');
    expect(windowed.lookup('w.html').kind).toBe('file');
    fs.writeFileSync(path.join(root, 'w.html'), 'two!');
    const r = windowed.lookup('w.html');
    expect(r.kind === 'file' && r.entry.body?.toString()).toBe('one');
  });

  it('does not keep files over the cache limit in memory', () => {
    const r = store.lookup('big.zip');
    expect(r.kind === 'file' && r.entry.body).toBeUndefined();
    expect(r.kind === 'file' && r.entry.size).toBe(3000);
  });

  it('refuses symlinks that lead out of the root, also to a sibling whose name starts like it', () => {
    expect(store.lookup('out.txt').kind).toBe('forbidden');
    expect(store.lookup('evil/x.html').kind).toBe('forbidden');
    expect(store.lookup('in.html').kind).toBe('file');
  });

  it('orders 415 and 404: unknown extension 415, known but missing 404, directory apart', () => {
    expect(store.lookup('noext').kind).toBe('unsupported');
    expect(store.lookup('nothing.exe').kind).toBe('unsupported');
    expect(store.lookup('nothing.html').kind).toBe('missing');
    expect(store.lookup('sub').kind).toBe('directory');
    expect(store.lookup('sub/index.html').kind).toBe('missing');
  });
});
