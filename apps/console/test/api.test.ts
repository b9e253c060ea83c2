// The console's API against real deliveries (swaks through our SMTP), a POP3 download (curl),
// files dropped in new/, and hostile messages.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handToMailUser, run } from '@sstt/testkit';
import { bigAttachment, drop, INLINE_IMAGE, MALFORMED, SCRIPT_HTML, SCRIPT_SUBJECT } from './hostile.ts';
import { startWorld, type World } from './world.ts';

type Summary = {
  id: string;
  key: string;
  subject: string;
  from: string;
  to: string;
  seen: boolean;
  attachments: boolean;
  smtpId: string;
  size: number;
  file: string;
};
type Page = { total: number; messages: Summary[]; start: number; count: number };
type SessionLine = { dir: string; text: string };

let w: World;
let u1: string;
let u2: string;
let e1: string;
let e2: string;

beforeAll(async () => {
  w = await startWorld();
  [u1, u2] = [w.s.users[0]!.name, w.s.users[1]!.name];
  [e1, e2] = [w.s.users[0]!.email, w.s.users[1]!.email];
});
afterAll(async () => {
  await w?.close();
});

const list = async (user: string, query = '') => (await w.api<Page>(`/api/v1/mailboxes/${user}/messages?query=${encodeURIComponent(query)}`)).body;
const bySubject = async (user: string, subject: string) =>
  w.until(async () => (await list(user, `subject:"${subject}"`)).messages.find((m) => m.subject === subject), `"${subject}" in ${user}'s list`);

describe('mailboxes', () => {
  it('lists every user of the domain, and /livez answers', async () => {
    const { status, body } = await w.api<{ mailboxes: Array<{ user: string; email: string; total: number }> }>('/api/v1/mailboxes');
    expect(status).toBe(200);
    expect(body.mailboxes.map((m) => [m.user, m.email])).toEqual(w.s.users.map((u) => [u.name, u.email]));
    expect((await w.api('/livez')).body).toEqual({ ok: true });
  });

  it('a message sent with swaks shows up in the right mailbox, linked to its SMTP session', async () => {
    await w.swaks(['--from', e1, '--to', e2, '--header', 'Subject: hello from swaks', '--body', 'first line\nsecond line']);
    const m = await bySubject(u2, 'hello from swaks');
    expect(m.from).toBe(e1);
    expect(m.to).toBe(e2);
    expect(m.seen).toBe(false);
    expect(m.smtpId).toMatch(/^[0-9A-Za-z]{6}-[0-9A-Za-z]{6}-[0-9A-Za-z]{2}$/);
    expect((await list(u1)).messages.some((x) => x.subject === 'hello from swaks')).toBe(false);

    const one = (await w.api<Summary & { parsed: { text: string; headers: Array<{ name: string; value: string }> } }>(`/api/v1/messages/${m.id}`)).body;
    expect(one.parsed.text).toMatch(/^first line\nsecond line\n/);
    expect(one.parsed.headers.find((h) => h.name === 'Subject')?.value).toBe('hello from swaks');
    const raw = await fetch(`${w.base}/api/v1/messages/${m.id}/raw`);
    expect(raw.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await raw.text()).toContain('\r\nSubject: hello from swaks\r\n');

    // The session that delivered it: its dialogue, and the link both ways.
    w.console.pollJournal();
    const sessions = await w.until(async () => {
      w.console.pollJournal();
      const r = (await w.api<{ sessions: Array<{ id: string; end: number | null }> }>(`/api/v1/sessions?protocol=smtp&smtpId=${m.smtpId}`)).body.sessions;
      return r.length > 0 && r[0]!.end !== null && r;
    }, 'the SMTP session');
    const session = (await w.api<{ lines: SessionLine[]; messages: Array<{ id: string }>; protocol: string }>(`/api/v1/sessions/${sessions[0]!.id}`)).body;
    expect(session.protocol).toBe('smtp');
    const dialogue = session.lines.map((l) => `${l.dir === 'c' ? 'C' : 'S'}: ${l.text}`);
    expect(dialogue[0]).toMatch(/^S: 220 server ESMTP sstt-mail /);
    expect(dialogue).toContain(`C: EHLO ${dialogue.find((l) => l.startsWith('C: EHLO '))!.slice(8)}`);
    expect(dialogue.find((l) => l.startsWith('S: 250-server Hello '))).toMatch(
      /^S: 250-server Hello \S+ \[127\.0\.0\.1\]\n250-SIZE \d+\n250-8BITMIME\n250-PIPELINING\n250-AUTH PLAIN LOGIN\n250 HELP$/,
    );
    expect(dialogue).toContain(`C: MAIL FROM:<${e1}>`);
    expect(dialogue).toContain('S: 250 OK');
    expect(dialogue).toContain(`C: RCPT TO:<${e2}>`);
    expect(dialogue).toContain('S: 250 Accepted');
    expect(dialogue).toContain('C: DATA');
    expect(dialogue).toContain('S: 354 Enter message, ending with "." on a line by itself');
    expect(dialogue).toContain(`S: 250 OK id=${m.smtpId}`);
    expect(dialogue).toContain('C: QUIT');
    expect(dialogue.at(-1)).toBe('S: 221 server closing connection');
    expect(session.messages.map((x) => x.id)).toEqual([m.id]);
  });

  it('AUTH data is masked in the timeline unless revealed', async () => {
    const u = w.s.users[0]!;
    const r = await run('swaks', [
      '--server',
      `127.0.0.1:${w.submission.port}`,
      '--auth',
      'PLAIN',
      '--auth-user',
      u.name,
      '--auth-password',
      u.password,
      '--from',
      e1,
      '--to',
      e2,
      '--header',
      'Subject: via submission',
    ]);
    expect(r.code).toBe(0);
    await bySubject(u2, 'via submission');
    const blob = Buffer.from(`\0${u.name}\0${u.password}`).toString('base64');
    const s = await w.until(async () => {
      w.console.pollJournal();
      return (await w.api<{ sessions: Array<{ id: string; end: number | null }> }>('/api/v1/sessions?protocol=submission')).body.sessions.find(
        (x) => x.end !== null,
      );
    }, 'the submission session');
    const masked = (await w.api<{ lines: SessionLine[] }>(`/api/v1/sessions/${s.id}`)).body.lines.map((l) => l.text);
    expect(masked).toContain('AUTH PLAIN ••••••••');
    expect(masked.join('\n')).not.toContain(blob);
    const revealed = (await w.api<{ lines: SessionLine[] }>(`/api/v1/sessions/${s.id}?reveal=1`)).body.lines.map((l) => l.text);
    expect(revealed).toContain(`AUTH PLAIN ${blob}`);
    expect(revealed).toContain('235 Authentication succeeded');
  });

  it('a POP3 download with DELE (curl) shows in the timeline, and the message leaves the list', async () => {
    const u = w.s.users[1]!;
    await w.swaks(['--from', e1, '--to', e2, '--header', 'Subject: to be popped']);
    const m = await bySubject(u2, 'to be popped');
    const all = (await list(u2)).messages;
    // POP3 numbers messages oldest first (our POP3 sorts by delivery), the list is newest first.
    const number = all.length - all.findIndex((x) => x.id === m.id);
    // RETR, then DELE in the same session (curl reuses the connection for --next); QUIT deletes.
    const url = `pop3://127.0.0.1:${w.pop3.port}/${number}`;
    const r = await run('curl', ['-s', '-u', `${u.name}:${u.password}`, url, '--next', '-u', `${u.name}:${u.password}`, '-X', 'DELE', '-I', url]);
    expect(r.stdout).toContain('Subject: to be popped');
    expect(r.code, r.stderr).toBe(0);
    await w.until(async () => (await w.api(`/api/v1/messages/${m.id}`)).status === 404, `the message to leave (${number}, ${r.stdout} ${r.stderr})`);
    expect((await w.api(`/api/v1/messages/${m.id}`)).body).toEqual({ error: 'no such message (deleted, or taken by POP3)' });
    const s = await w.until(async () => {
      w.console.pollJournal();
      const all = (await w.api<{ sessions: Array<{ id: string; user?: string; end: number | null }> }>('/api/v1/sessions?protocol=pop3')).body.sessions;
      return all.find((x) => x.user === u.name && x.end !== null);
    }, 'the POP3 session');
    const lines = (await w.api<{ lines: SessionLine[] }>(`/api/v1/sessions/${s.id}`)).body.lines.map((l) => `${l.dir === 'c' ? 'C' : 'S'}: ${l.text}`);
    expect(lines[0]).toMatch(/^S: \+OK /);
    expect(lines).toContain('C: AUTH PLAIN');
    expect(lines).toContain('C: ••••••••');
    expect(lines).toContain('S: +OK Logged in.');
    expect(lines).toContain(`C: RETR ${number}`);
    expect(lines).toContain(`S: +OK ${m.size} octets`);
    expect(lines).toContain(`C: DELE ${number}`);
    expect(lines).toContain('C: QUIT');
  });

  it('search: from:, to:, subject:, has:attachment, is:unread, dates, negation and free text', async () => {
    await w.swaks(['--from', 'alice@example.net', '--to', e1, '--header', 'Subject: quarterly report', '--attach', '@/etc/hostname']);
    await w.swaks(['--from', 'bob@example.net', '--to', e1, '--header', 'Subject: lunch?']);
    await bySubject(u1, 'lunch?');
    const subjects = async (q: string) => (await list(u1, q)).messages.map((m) => m.subject).sort();
    expect(await subjects('from:alice')).toEqual(['quarterly report']);
    expect(await subjects('from:example.net')).toEqual(['lunch?', 'quarterly report']);
    expect(await subjects('subject:lunch')).toEqual(['lunch?']);
    expect(await subjects('has:attachment')).toEqual(['quarterly report']);
    expect(await subjects('from:example.net -has:attachment')).toEqual(['lunch?']);
    expect(await subjects('QUARTERLY')).toEqual(['quarterly report']);
    expect(await subjects('subject:"quarterly report" is:unread')).toEqual(['quarterly report']);
    expect(await subjects(`to:${e1} after:2000-01-01 before:2999-01-01 from:bob`)).toEqual(['lunch?']);
    expect(await subjects('before:2000-01-01')).toEqual([]);
    const bad = await w.api(`/api/v1/mailboxes/${u1}/messages?query=before:yesterday`);
    expect(bad).toMatchObject({ status: 400, body: { error: 'before: expects a date as YYYY-MM-DD, got "yesterday"' } });
  });

  it('paging: start and limit, newest first', async () => {
    const all = (await list(u1)).messages;
    const page = (await w.api<Page>(`/api/v1/mailboxes/${u1}/messages?start=1&limit=1`)).body;
    expect(page.total).toBe(all.length);
    expect(page.messages.map((m) => m.id)).toEqual([all[1]!.id]);
    expect(all[0]!.subject).toBe('lunch?');
    expect(await w.api(`/api/v1/mailboxes/${u1}/messages?limit=-1`)).toMatchObject({
      status: 400,
      body: { error: 'limit: expected a whole number, got "-1"' },
    });
  });

  it('mark read moves the file to cur/ with the S flag; delete removes it from the Maildir', async () => {
    const m = await bySubject(u1, 'lunch?');
    const read = await w.api<Summary>(`/api/v1/messages/${m.id}/read`, { method: 'PUT', body: '{"read":true}' });
    expect(read.status).toBe(200);
    expect(read.body.seen).toBe(true);
    expect(read.body.file).toMatch(/^cur\/.+:2,S$/);
    expect(fs.existsSync(path.join(w.maildir(u1), read.body.file))).toBe(true);
    const del = await w.api(`/api/v1/messages/${m.id}`, { method: 'DELETE' });
    expect(del).toMatchObject({ status: 200, body: { deleted: m.id } });
    expect(fs.existsSync(path.join(w.maildir(u1), read.body.file))).toBe(false);
    expect((await list(u1)).messages.some((x) => x.id === m.id)).toBe(false);
  });

  it('a message renamed by another reader (a flag set) is still served at once, under its new name', async () => {
    await w.swaks(['--from', e1, '--to', e2, '--header', 'Subject: renamed under us', '--body', 'still here']);
    const m = await bySubject(u2, 'renamed under us');
    // As a POP3 or IMAP server does when it sets a flag: new/<name> becomes cur/<name>:2,S.
    fs.renameSync(path.join(w.maildir(u2), m.file), path.join(w.maildir(u2), 'cur', `${m.key}:2,S`));
    const [one, raw] = await Promise.all([w.api<{ parsed: { text: string } }>(`/api/v1/messages/${m.id}`), fetch(`${w.base}/api/v1/messages/${m.id}/raw`)]);
    expect(one.status).toBe(200);
    expect(one.body.parsed.text).toMatch(/^still here/);
    expect(raw.status).toBe(200);
    expect(await raw.text()).toContain('Subject: renamed under us');
  });

  it('API errors are JSON with a message', async () => {
    expect(await w.api('/api/v1/mailboxes/nobody/messages')).toMatchObject({
      status: 404,
      body: { error: `no such user: "nobody" (the users are ${u1}, ${u2})` },
    });
    expect(await w.api('/api/v1/messages/AAAA')).toMatchObject({ status: 404, body: { error: 'no such message (deleted, or taken by POP3)' } });
    expect(await w.api('/api/v1/nothing')).toMatchObject({ status: 404, body: { error: 'no such endpoint: GET /api/v1/nothing' } });
    expect(await w.api('/api/v1/sessions/none')).toMatchObject({ status: 404, body: { error: 'no such session (older sessions leave the timeline)' } });
    const doc = (await w.api<{ openapi: string; paths: Record<string, unknown> }>('/api/v1/openapi.json')).body;
    expect(doc.openapi).toBe('3.1.0');
    for (const p of ['/mailboxes', '/mailboxes/{user}/messages', '/messages/{id}', '/messages/{id}/raw', '/sessions', '/events', '/certificates'])
      expect(doc.paths[p], p).toBeDefined();
  });
});

describe('Maildir files written by dovecot', () => {
  it('a message dovecot-lda delivers (LF endings, its own S=/W= name, its index files beside) shows up', async () => {
    const u = w.s.users[0]!;
    const maildir = w.maildir(u.name);
    // Only the world's own temporary directory changes hands (never a directory above it).
    handToMailUser(w.s.paths.mail, w.root);
    const conf = path.join(w.root, 'lda.conf');
    fs.writeFileSync(conf, `mail_location = maildir:${maildir}\nssl = no\nlog_path = ${path.join(path.dirname(maildir), 'lda.log')}\n`, { mode: 0o644 });
    // dovecot-lda delivers as the mailbox's owner (Debian's mail user), as exim's transport runs it.
    const lda = '/usr/lib/dovecot/dovecot-lda';
    expect(fs.existsSync(lda), 'dovecot-lda (Debian package dovecot-core)').toBe(true);
    const r = await run('runuser', ['-u', 'mail', '--', 'env', `HOME=${path.dirname(maildir)}`, 'USER=mail', lda, '-c', conf, '-f', 'dove@example.org'], {
      input: 'From: Dove <dove@example.org>\nTo: someone@example.org\nSubject: delivered by dovecot\nDate: Sat, 05 Dec 2026 09:00:00 +0000\n\nbody\n',
    });
    expect(r.code, r.stderr).toBe(0);
    const m = await bySubject(u.name, 'delivered by dovecot');
    expect(m.from).toBe('Dove <dove@example.org>');
    expect(m.file).toMatch(/^new\/\d+\.M\d+P\d+\.[^,]+,S=\d+,W=\d+$/);
    expect(m.size).toBe(Number(/,S=(\d+)/.exec(m.file)![1]));
    expect(fs.readdirSync(maildir)).toContain('dovecot-uidlist');
    const one = (await w.api<{ parsed: { text: string } }>(`/api/v1/messages/${m.id}`)).body;
    expect(one.parsed.text).toBe('body\n');
  });
});

describe('live stream', () => {
  it('a delivery and a deletion arrive as events without asking', async () => {
    const ac = new AbortController();
    const res = await fetch(`${w.base}/api/v1/events`, { signal: ac.signal });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = res.body!.getReader();
    let text = '';
    const next = async (pattern: RegExp) => {
      const deadline = Date.now() + 10_000;
      while (!pattern.test(text)) {
        if (Date.now() > deadline) throw new Error(`no ${pattern} in ${text.slice(-500)}`);
        const { value, done } = await reader.read();
        if (done) throw new Error('stream ended');
        text += Buffer.from(value).toString('utf8');
      }
      return pattern.exec(text)!;
    };
    await next(/event: hello/);
    await w.swaks(['--from', e1, '--to', e2, '--header', 'Subject: live one']);
    const m = await next(/event: message\.new\ndata: (\{[^\n]*"subject":"live one"[^\n]*\})/);
    const ev = JSON.parse(m[1]!) as { user: string; message: Summary };
    expect(ev.user).toBe(u2);
    await w.api(`/api/v1/messages/${ev.message.id}`, { method: 'DELETE' });
    await next(new RegExp(`event: message\\.delete\\ndata: \\{"type":"message\\.delete","user":"${u2}","id":"${ev.message.id}"\\}`));
    ac.abort();
  });
});

describe('hostile messages', () => {
  it('HTML is served only as a sandboxed document with a strict CSP; remote images on request', async () => {
    drop(w.maildir(u2), SCRIPT_HTML);
    const m = await bySubject(u2, 'hostile html');
    const res = await fetch(`${w.base}/api/v1/messages/${m.id}/html`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toBe(
      "default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; form-action 'none'; base-uri 'none'; sandbox allow-popups allow-popups-to-escape-sandbox",
    );
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    const remote = await fetch(`${w.base}/api/v1/messages/${m.id}/html?remote=1`);
    expect(remote.headers.get('content-security-policy')).toContain('img-src data: http: https:;');
    // The message view's JSON carries no HTML: the page never inserts it.
    const one = (await w.api<{ parsed: Record<string, unknown> }>(`/api/v1/messages/${m.id}`)).body;
    expect(one.parsed.hasHtml).toBe(true);
    expect(one.parsed.html).toBeUndefined();
    // The console's own pages are under their CSP too.
    expect((await fetch(`${w.base}/api/v1/mailboxes`)).headers.get('content-security-policy')).toContain("default-src 'self'");
  });

  it('markup in a subject is data in the JSON, never HTML', async () => {
    drop(w.maildir(u2), SCRIPT_SUBJECT);
    const m = await bySubject(u2, '<img src=x onerror=alert(1)><script>alert(2)</script>');
    expect(m.from).toBe('Mallory <mallory@evil.example>');
  });

  it('a malformed MIME tree is shown (or reported) and the console keeps running', async () => {
    drop(w.maildir(u2), MALFORMED);
    const m = await bySubject(u2, 'malformed mime');
    const one = await w.api<{ parsed: { headers: unknown[] } | null; error?: string }>(`/api/v1/messages/${m.id}`);
    expect(one.status).toBe(200);
    expect(one.body.parsed === null ? one.body.error : one.body.parsed.headers.length).toBeTruthy();
    expect((await fetch(`${w.base}/api/v1/messages/${m.id}/raw`)).status).toBe(200);
    expect((await w.api('/livez')).body).toEqual({ ok: true });
  });

  it('a 20 MB attachment is listed by size, downloaded in full, never inlined', async () => {
    const size = 20 * 1024 * 1024;
    drop(w.maildir(u2), bigAttachment(size));
    const m = await bySubject(u2, 'big attachment');
    expect(m.attachments).toBe(true);
    const one = await w.api<{ parsed: { text: string; attachments: Array<{ filename: string; size: number; contentType: string }> } }>(
      `/api/v1/messages/${m.id}`,
    );
    expect(one.body.parsed.text).toBe('see the attachment');
    expect(one.body.parsed.attachments).toEqual([{ index: 0, filename: 'big.bin', contentType: 'application/octet-stream', size, inline: false }]);
    const dl = await fetch(`${w.base}/api/v1/messages/${m.id}/attachments/0`);
    expect(dl.headers.get('content-disposition')).toBe(`attachment; filename="big.bin"; filename*=UTF-8''big.bin`);
    expect((await dl.arrayBuffer()).byteLength).toBe(size);
    expect(await w.api(`/api/v1/messages/${m.id}/attachments/5`)).toMatchObject({ status: 404, body: { error: 'no attachment 5 in this message' } });
  });

  it('inline images become data: URLs; an HTML attachment is only ever a download', async () => {
    drop(w.maildir(u2), INLINE_IMAGE);
    const m = await bySubject(u2, 'inline image');
    const html = await (await fetch(`${w.base}/api/v1/messages/${m.id}/html`)).text();
    expect(html).toContain('<img id="logo" src="data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7">');
    const one = (await w.api<{ parsed: { attachments: Array<{ filename: string; index: number }> } }>(`/api/v1/messages/${m.id}`)).body;
    const evil = one.parsed.attachments.find((a) => a.filename === 'evil.html')!;
    const dl = await fetch(`${w.base}/api/v1/messages/${m.id}/attachments/${evil.index}`);
    expect(dl.headers.get('content-type')).toBe('application/octet-stream');
    expect(dl.headers.get('content-disposition')).toMatch(/^attachment; /);
  });
});

describe('a console with a password (the lab profile)', () => {
  it('asks for it (HTTP Basic) on every page and call except /livez', async () => {
    const { createConsoleServer } = await import('../src/server.ts');
    const { startServer } = await import('@sstt/testkit');
    const locked = await startServer(
      createConsoleServer({
        scenario: { ...w.s, console: { ...w.s.console, password: 'sesame' } },
        host: '127.0.0.1',
        port: 0,
        cacheDir: path.join(w.s.paths.data, 'console-locked'),
      }),
    );
    try {
      const base = `http://127.0.0.1:${locked.port}`;
      const denied = await fetch(`${base}/api/v1/mailboxes`);
      expect(denied.status).toBe(401);
      expect(denied.headers.get('www-authenticate')).toBe('Basic realm="sstt console"');
      expect((await fetch(`${base}/`)).status).toBe(401);
      const wrong = await fetch(`${base}/api/v1/mailboxes`, { headers: { Authorization: `Basic ${Buffer.from('x:nope').toString('base64')}` } });
      expect(wrong.status).toBe(401);
      // One character off, of the same length (password.ts compares digests in constant time).
      const close = await fetch(`${base}/api/v1/mailboxes`, { headers: { Authorization: `Basic ${Buffer.from('anyone:sesamf').toString('base64')}` } });
      expect(close.status).toBe(401);
      expect(close.headers.get('www-authenticate')).toBe('Basic realm="sstt console"');
      const ok = await fetch(`${base}/api/v1/mailboxes`, { headers: { Authorization: `Basic ${Buffer.from('anyone:sesame').toString('base64')}` } });
      expect(ok.status).toBe(200);
      expect((await fetch(`${base}/livez`)).status).toBe(200);
    } finally {
      await locked.close();
    }
  });

  it('the lab profile without a password does not start: one line, exit 2', async () => {
    const r = await run(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, '..', 'src', 'main.ts')], {
      env: { ...process.env, SSTT_CONFIG: '', SSTT_PROFILE: 'lab', SSTT_CONSOLE_PASSWORD: '', SSTT_DATA_DIR: w.s.paths.data, SSTT_CERTS_DIR: w.s.paths.certs },
      timeoutMs: 20_000,
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'sstt-console: configuration: console.password: expected a password for the console (the lab profile listens on the LAN), found none\n',
    );
  });
});

describe('folders and move (the IMAP model)', () => {
  it("lists the user's folders with counts, and moves an inbox message into one with a UID there", async () => {
    await w.swaks(['--from', e1, '--to', e1, '--header', 'Subject: to be filed', '--body', 'file me']);
    const m = await bySubject(u1, 'to be filed');
    // A Maildir++ folder as dovecot or our IMAP made it.
    fs.mkdirSync(path.join(w.maildir(u1), '.Archive', 'cur'), { recursive: true });
    for (const sub of ['new', 'tmp']) fs.mkdirSync(path.join(w.maildir(u1), '.Archive', sub), { recursive: true });
    const before = await w.api<{ folders: Array<{ name: string; total: number; specialUse: string | null }> }>(`/api/v1/mailboxes/${u1}/folders`);
    expect(before.status).toBe(200);
    expect(before.body.folders.map((f) => [f.name, f.specialUse])).toEqual([
      ['INBOX', null],
      ['Archive', null],
    ]);
    const inboxTotal = before.body.folders[0]!.total;
    expect(await w.api(`/api/v1/messages/${m.id}/move`, { method: 'POST', body: '{"folder":"Nowhere"}' })).toMatchObject({
      status: 422,
      body: { error: 'no such folder: "Nowhere"' },
    });
    const moved = await w.api<{ moved: string; folder: string; uid: number }>(`/api/v1/messages/${m.id}/move`, {
      method: 'POST',
      body: '{"folder":"Archive"}',
    });
    expect(moved).toMatchObject({ status: 200, body: { moved: m.id, folder: 'Archive', uid: 1 } });
    const files = fs.readdirSync(path.join(w.maildir(u1), '.Archive', 'cur'));
    expect(files).toHaveLength(1);
    expect(fs.readFileSync(path.join(w.maildir(u1), '.Archive', 'cur', files[0]!), 'utf8')).toContain('Subject: to be filed');
    expect(fs.readFileSync(path.join(w.maildir(u1), '.Archive', 'dovecot-uidlist'), 'utf8')).toMatch(
      new RegExp(`\\n1 :${files[0]!.split(':')[0]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n`),
    );
    const after = await w.api<{ folders: Array<{ name: string; total: number }> }>(`/api/v1/mailboxes/${u1}/folders`);
    expect(after.body.folders.map((f) => [f.name, f.total])).toEqual([
      ['INBOX', inboxTotal - 1],
      ['Archive', 1],
    ]);
    expect((await list(u1)).messages.some((x) => x.id === m.id)).toBe(false);
  });
});
