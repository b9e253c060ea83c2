// The delivery side of Maildir: names, CRLF storage, links for several recipients, the size
// limit, concurrent deliveries sharing directory fsyncs, and the tmp/ cleaner.
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '@sstt/testkit';
import { ensureMaildir, nameHost } from '@sstt/maildir';
import { cleanTmp, CrlfNormalizer, MaildirDelivery, SizeExceededError, TMP_MAX_AGE_MS } from '../src/maildir.ts';
import { maildirFiles } from './helpers.ts';

const t = tempDir('sstt-maildir-');
const delivery = new MaildirDelivery();
afterAll(async () => {
  await delivery.close();
  t.remove();
});
const md = (name: string) => path.join(t.dir, name, 'Maildir');

describe('CrlfNormalizer', () => {
  it('turns bare LF into CRLF, also across chunk boundaries, and leaves CRLF alone', () => {
    const n = new CrlfNormalizer();
    const out = Buffer.concat(['a\r', '\nb\n', 'c\r\n', '\n', 'd\re\n'].map((c) => n.push(Buffer.from(c)))).toString();
    expect(out).toBe('a\r\nb\r\nc\r\n\r\nd\re\r\n');
  });
});

describe('deliver', () => {
  it('writes one file per Maildir under the spec name, hard-linked, with the trace headers first', async () => {
    const a = md('a');
    const b = md('b');
    const d = await delivery.deliver([a, b, a], Readable.from([Buffer.from('Subject: x\n'), Buffer.from('\nhola\r\n')]), { prepend: 'Return-Path: <>\r\n' });
    expect(d.files).toHaveLength(2);
    const content = 'Return-Path: <>\r\nSubject: x\r\n\r\nhola\r\n';
    expect(d.size).toBe(content.length);
    for (const f of d.files) {
      expect(fs.readFileSync(f, 'utf8')).toBe(content);
      expect(path.basename(f)).toMatch(
        new RegExp(`^\\d+\\.M\\d+P${process.pid}Q\\d+\\.${nameHost().replace(/[.\\]/g, '\\$&')},S=${content.length},W=${content.length}$`),
      );
    }
    expect(fs.statSync(d.files[0]!).ino).toBe(fs.statSync(d.files[1]!).ino);
    expect(maildirFiles(a, 'tmp')).toEqual([]);
    expect(maildirFiles(b, 'tmp')).toEqual([]);
    for (const sub of ['tmp', 'new', 'cur']) expect((fs.statSync(path.join(a, sub)).mode & 0o777).toString(8)).toBe('700');
  });

  it('recreates a Maildir removed behind its back', async () => {
    const g = md('g');
    await delivery.deliver([g], Buffer.from('Subject: 1\r\n\r\n'));
    fs.rmSync(g, { recursive: true });
    const d = await delivery.deliver([g], Buffer.from('Subject: 2\r\n\r\n'));
    expect(maildirFiles(g)).toEqual(d.files);
  });

  it('refuses a message over maxBytes and leaves nothing behind', async () => {
    const c = md('c');
    const big = Readable.from(Array.from({ length: 10 }, () => Buffer.alloc(1000, 0x61)));
    await expect(delivery.deliver([c], big, { maxBytes: 5000 })).rejects.toBeInstanceOf(SizeExceededError);
    expect(maildirFiles(c)).toEqual([]);
    expect(maildirFiles(c, 'tmp')).toEqual([]);
  });

  it('delivers 200 concurrent messages, each once, each whole', async () => {
    const e = md('e');
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => delivery.deliver([e], Buffer.from(`Subject: ${i}\r\n\r\n${'z'.repeat(i)}\r\n`))));
    expect(new Set(results.map((r) => r.files[0])).size).toBe(200);
    const files = maildirFiles(e);
    expect(files).toHaveLength(200);
    for (const f of files) expect(fs.statSync(f).size).toBe(Number(/,S=(\d+),/.exec(f)![1]));
  });
});

describe('cleanTmp', () => {
  it('removes tmp/ files older than 36 hours only', async () => {
    const f = md('f');
    await ensureMaildir(f);
    fs.writeFileSync(path.join(f, 'tmp', 'old'), 'x');
    fs.writeFileSync(path.join(f, 'tmp', 'fresh'), 'x');
    const past = new Date(Date.now() - TMP_MAX_AGE_MS - 60_000);
    fs.utimesSync(path.join(f, 'tmp', 'old'), past, past);
    expect(await cleanTmp(f)).toBe(1);
    expect(fs.readdirSync(path.join(f, 'tmp'))).toEqual(['fresh']);
  });
});
