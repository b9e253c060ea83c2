// The console in headless Chromium (Debian's chromium driven by playwright-core), kept off the
// network by its flags: a message sent with swaks appears without a reload, its HTML renders
// in the sandbox where a script does not run, search finds it, delete removes it from the
// Maildir, the timeline shows the SMTP and POP3 dialogues, a POP3 download makes a message
// leave the list; screenshots at 1280 and 390 px; no test leaves an error in the page's console.
// Each test sets up the mailbox it needs (emptied, then its own messages), so any one of them runs
// alone or in any order; each view is driven through its page object (pages/).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { initPki } from '@sstt/pki';
import { CHROMIUM_ARGS, requireTool, run, tempDir } from '@sstt/testkit';
import { ConsolePage } from './pages/console.ts';
import { drop, SCRIPT_HTML } from './hostile.ts';
import { startWorld, type World } from './world.ts';

/** Where the screenshots go (kept for a person to look at). */
const SHOTS = process.env.SSTT_SCREENSHOTS ?? path.join(os.tmpdir(), 'sstt-console-screenshots');

let w: World;
let ctx: BrowserContext;
let page: Page;
let ui: ConsolePage;
let profile: { dir: string; remove(): void };
/** Errors of the console's own page (the sandboxed message frame's refusals are expected and kept apart). */
const pageErrors: string[] = [];
const frameRefusals: string[] = [];

beforeAll(async () => {
  // The front end as `npm run build` makes it (Vite), in case this checkout has not built it.
  const { build } = await import('vite');
  await build({ configFile: path.join(import.meta.dirname, '..', 'ui', 'vite.config.ts'), logLevel: 'warn' });
  // A domain that signs and checks: the message view shows the verdicts.
  w = await startWorld({ mailAuth: true });
  profile = tempDir('sstt-chromium-');
  ctx = await chromium.launchPersistentContext(profile.dir, {
    executablePath: requireTool('chromium'),
    args: CHROMIUM_ARGS,
    headless: true,
    chromiumSandbox: false,
    viewport: { width: 1280, height: 800 },
  });
  page = ctx.pages()[0] ?? (await ctx.newPage());
  // A step that cannot happen fails with its locator's name, well before the test's own timeout.
  page.setDefaultTimeout(15_000);
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const url = m.location().url;
    (url.includes('/html') || /sandbox|Content Security Policy/.test(m.text()) ? frameRefusals : pageErrors).push(`${m.text()} (${url})`);
  });
  page.on('pageerror', (err) => pageErrors.push(err.message));
  ui = new ConsolePage(page, w.base);
  fs.mkdirSync(SHOTS, { recursive: true });
}, 120_000);

// An error in the console's own page fails the test it happened in.
afterEach(() => {
  const errors = pageErrors.splice(0);
  expect(errors, frameRefusals.join('\n')).toEqual([]);
});

afterAll(async () => {
  await ctx?.close();
  profile?.remove();
  await w?.close();
});

const [u1, u2] = [0, 1];
const user = (i: number) => w.s.users[i]!;

/**
 * Empties a user's Maildir (the console's rescans follow, as for a POP3 client's deletions). The
 * page leaves the console first: what the previous test left in flight (the read mark of the
 * message it opened) must not find its file gone.
 */
async function emptyMailbox(i: number): Promise<void> {
  await ui.leave();
  for (const sub of ['new', 'cur']) {
    const dir = path.join(w.maildir(user(i).name), sub);
    for (const f of fs.existsSync(dir) ? fs.readdirSync(dir) : []) fs.rmSync(path.join(dir, f));
  }
}

/** The HTML message (a script, a javascript: link) sent with swaks from u1 to u2; `helo` names its SMTP session. */
function sendHtml(helo = 'cliente'): Promise<string> {
  return w.swaks([
    '--from',
    user(u1).email,
    '--to',
    user(u2).email,
    '--helo',
    helo,
    '--header',
    'Subject: html from swaks',
    '--add-header',
    'Content-Type: text/html; charset=utf-8',
    '--body',
    '<p id="p">hello <b>bold</b></p><script>parent.document.title="pwned";document.getElementById("p").textContent="script ran"</script><a id="js" href="javascript:parent.document.title=\'pwned3\'">click</a>',
  ]);
}

/** u2's mailbox holding exactly `subjects` (from: 'html from swaks' by SMTP, 'hostile html' dropped in), on screen. */
async function mailboxWith(...subjects: Array<'html from swaks' | 'hostile html'>): Promise<void> {
  await emptyMailbox(u2);
  for (const subject of subjects) {
    if (subject === 'html from swaks') await sendHtml();
    else drop(w.maildir(user(u2).name), SCRIPT_HTML);
  }
  await ui.mailbox.open(user(u2).name);
  await expect.poll(() => ui.mailbox.rows.count(), { timeout: 10_000 }).toBe(subjects.length);
}

describe('the console in Chromium', () => {
  it('an empty mailbox says so; a message sent with swaks appears without a reload', async () => {
    await emptyMailbox(u2);
    await ui.mailbox.open(user(u2).name);
    await expect.poll(() => ui.mailbox.emptyText()).toContain(`${user(u2).name}'s mailbox is empty.`);
    await page.evaluate(() => {
      (window as unknown as { notReloaded: boolean }).notReloaded = true;
    });
    await sendHtml();
    await ui.mailbox.row('html from swaks').waitFor({ timeout: 10_000 });
    expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
    await expect.poll(() => ui.mailbox.from('html from swaks')).toBe(user(u1).email);
  });

  it('the HTML renders in the sandbox and its script does not run', async () => {
    await mailboxWith('html from swaks');
    await ui.mailbox.openMessage('html from swaks');
    const p = ui.message.htmlFrame.locator('#p');
    await expect.poll(() => p.textContent()).toBe('hello bold');
    // A javascript: link does nothing in a frame without scripts (no navigation to wait for).
    await ui.message.htmlFrame.locator('#js').click({ noWaitAfter: true, timeout: 5000 });
    expect(await p.textContent()).toBe('hello bold');
    expect(await page.title()).toBe('sstt console');
    // The frame is sandboxed without scripts (the attribute and the CSP the console sends).
    expect(await ui.message.htmlFrameElement.getAttribute('sandbox')).toBe('allow-popups allow-popups-to-escape-sandbox');
    // Our server's verdicts: signed by the domain (both selectors), SPF and DMARC pass.
    await expect
      .poll(() => ui.message.verdicts())
      .toEqual([
        `DKIM pass (${w.s.domain} s=rsa) DNS`,
        `DKIM pass (${w.s.domain} s=ed25519) DNS`,
        `SPF pass (MAIL FROM ${user(u1).email}) DNS`,
        'ARC none',
        `DMARC pass (${w.s.domain}, p=REJECT arc=none) DNS`,
      ]);
    // Each verdict links to the queries for the record it was read from (ARC: none asked).
    const d = w.s.domain;
    const link = (name: string) => expect.stringMatching(new RegExp(`^#/dns\\?name=${name.replace(/\./g, '\\.')}&type=TXT&smtpId=[\\w.-]+$`));
    expect(await ui.message.verdictDnsLinks()).toEqual([link(`rsa._domainkey.${d}`), link(`ed25519._domainkey.${d}`), link(d), link(`_dmarc.${d}`)]);
    await page.screenshot({ path: path.join(SHOTS, 'message-auth-1280.png') });
    // DMARC's: the DNS view shows the query for _dmarc.<domain> TXT our server answered before the message was accepted.
    await ui.message.openVerdictDns('dmarc');
    const dmarc = await ui.dns.verdictQueries();
    expect(dmarc.heading).toBe(`_dmarc.${d} TXT`);
    expect(dmarc.rows[0]).toBe(`_dmarc.${d} TXT → NOERROR`);
    await page.screenshot({ path: path.join(SHOTS, 'dns-verdict-1280.png') });
  });

  it('a hostile message (overlay CSS, remote image, event handlers) stays inside its frame', async () => {
    await mailboxWith('hostile html');
    await ui.mailbox.openMessage('hostile html');
    await expect.poll(() => ui.message.htmlFrame.locator('#p').textContent()).toBe('hello bold');
    // Dropped into the Maildir, never through our SMTP: no verdicts of ours.
    expect(await ui.message.authText()).toBe('Not checked: no Authentication-Results of our server.');
    // The full-page overlay covers the frame only: the console's buttons still take clicks.
    await ui.message.tab('headers');
    await ui.message.tab('html');
    expect(await page.title()).toBe('sstt console');
    await page.screenshot({ path: path.join(SHOTS, 'message-1280.png') });
  });

  it('search finds the message, and says so when nothing matches', async () => {
    await mailboxWith('html from swaks', 'hostile html');
    await ui.mailbox.search('subject:"html from swaks"');
    await expect.poll(() => ui.mailbox.rows.count()).toBe(1);
    await ui.mailbox.search(`from:${user(u1).email} html`);
    await expect.poll(() => ui.mailbox.rows.allTextContents()).toEqual([expect.stringContaining('html from swaks')]);
    await ui.mailbox.search('from:nobody-at-all');
    await expect.poll(() => ui.mailbox.emptyText()).toBe('No message matches “from:nobody-at-all”.');
    await ui.mailbox.search('');
    await expect.poll(() => ui.mailbox.rows.count()).toBe(2);
  });

  it('delete removes the message from the list and from the Maildir', async () => {
    const dir = path.join(w.maildir(user(u2).name));
    const files = () => [...fs.readdirSync(path.join(dir, 'new')), ...fs.readdirSync(path.join(dir, 'cur'))];
    await mailboxWith('html from swaks', 'hostile html');
    expect(files()).toHaveLength(2);
    await ui.mailbox.openMessage('hostile html');
    await ui.message.delete();
    await expect.poll(() => ui.mailbox.row('hostile html').count()).toBe(0);
    expect(files()).toHaveLength(1);
  });

  it('the mailbox shows its IMAP folders; Move to files the message there (in the Maildir, with a UID)', async () => {
    const dir = w.maildir(user(u2).name);
    for (const sub of ['cur', 'new', 'tmp']) fs.mkdirSync(path.join(dir, '.Trash', sub), { recursive: true });
    await mailboxWith('html from swaks', 'hostile html');
    await expect.poll(() => ui.mailbox.folderTotal('Trash')).toBe('0');
    await ui.mailbox.openMessage('hostile html');
    await ui.message.moveTo('Trash');
    await expect.poll(() => ui.mailbox.row('hostile html').count()).toBe(0);
    await expect.poll(() => ui.mailbox.folderTotal('Trash')).toBe('1');
    const trash = fs.readdirSync(path.join(dir, '.Trash', 'cur'));
    expect(trash).toHaveLength(1);
    expect(fs.readFileSync(path.join(dir, '.Trash', 'dovecot-uidlist'), 'utf8')).toContain(` :${trash[0]!.split(':')[0]}\n`);
  });

  it('the timeline shows the SMTP dialogue, linked to the message', async () => {
    await sendHtml('timeline');
    await ui.mailbox.open(user(u2).name);
    await ui.sessions.open();
    await ui.sessions.openSession('smtp', 'EHLO timeline');
    await expect.poll(async () => (await ui.session.dialogue()).join('\n')).toContain('S: 250 OK id=');
    const lines = await ui.session.dialogue();
    expect(lines[0]).toMatch(/^S: 220 server ESMTP sstt-mail /);
    expect(lines).toContain(`C: MAIL FROM:<${user(u1).email}>`);
    expect(lines).toContain('S: 250 OK');
    expect(lines).toContain(`C: RCPT TO:<${user(u2).email}>`);
    expect(lines).toContain('S: 250 Accepted');
    expect(lines).toContain('S: 354 Enter message, ending with "." on a line by itself');
    expect(lines.at(-1)).toBe('S: 221 server closing connection');
    await ui.session.openDelivered('html from swaks');
    await ui.message.shows('html from swaks');
  });

  it('a POP3 download (curl) shows in the timeline and the message leaves the list', async () => {
    await mailboxWith('html from swaks');
    const u = user(u2);
    const url = `pop3://127.0.0.1:${w.pop3.port}/1`;
    const r = await run('curl', ['-s', '-u', `${u.name}:${u.password}`, url, '--next', '-u', `${u.name}:${u.password}`, '-X', 'DELE', '-I', url]);
    expect(r.stdout).toContain('Subject: html from swaks');
    await expect.poll(() => ui.mailbox.rows.count(), { timeout: 10_000 }).toBe(0);
    await expect.poll(() => ui.mailbox.emptyText()).toContain(`${u.name}'s mailbox is empty.`);
    await ui.sessions.open();
    await ui.sessions.openSession('pop3', 'CAPA');
    await expect.poll(async () => (await ui.session.dialogue()).join('\n')).toContain('C: QUIT');
    const lines = await ui.session.dialogue();
    expect(lines).toContain('C: RETR 1');
    expect(lines.find((l) => l.startsWith('S: +OK ') && l.endsWith(' octets'))).toBeDefined();
    expect(lines).toContain('C: DELE 1');
    expect(lines).toContain('C: ••••••••');
  });

  it('the DNS view lists the zone and its dig box asks our DNS', async () => {
    await ui.mailbox.open(user(u2).name);
    await ui.dns.open(`www.${w.s.domain}.`);
    await ui.dns.dig(`${w.s.domain}`, 'MX');
    await expect.poll(() => ui.dns.answer()).toContain(`;; ANSWER SECTION:\n${w.s.domain}.\t3600\tIN\tMX\t10 smtp.${w.s.domain}.`);
    await page.screenshot({ path: path.join(SHOTS, 'dns-1280.png') });
  });

  it('the certificates view lists every certificate with the PKCS#12 password', async () => {
    await initPki(w.s);
    await ui.mailbox.open(user(u2).name);
    await ui.certs.open();
    expect(await ui.certs.p12Password()).toBe(w.s.pki.p12Password);
    expect(await ui.certs.rows.count()).toBe((await w.api<{ certificates: unknown[] }>('/api/v1/certificates')).body.certificates.length);
    await page.screenshot({ path: path.join(SHOTS, 'certs-1280.png') });
  });

  it('compose sends through the submission service and the message arrives', async () => {
    await ui.mailbox.open(user(u2).name);
    await ui.compose.open();
    await ui.compose.send({ from: user(u1).name, to: user(u2).email, subject: 'written in the console', text: 'hello from the browser' });
    await expect.poll(() => ui.compose.result(), { timeout: 10_000 }).toMatch(/^Sent to .+: 250 OK id=/);
    await ui.mailbox.open(user(u2).name);
    await ui.mailbox.row('written in the console').waitFor({ timeout: 10_000 });
  });

  it('dark mode follows the system setting', async () => {
    await page.emulateMedia({ colorScheme: 'dark' });
    onTestFinished(() => page.emulateMedia({ colorScheme: 'light' }));
    await ui.mailbox.open(user(u2).name);
    expect(await page.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe('rgb(20, 23, 28)');
    await page.screenshot({ path: path.join(SHOTS, 'mail-dark-1280.png') });
    await page.emulateMedia({ colorScheme: 'light' });
    expect(await page.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe('rgb(255, 255, 255)');
  });

  it('screenshots at 1280 and 390 px: at 390 the message is the only column', async () => {
    await w.swaks(['--from', user(u1).email, '--to', user(u2).email, '--header', 'Subject: a plain one', '--body', 'Hello,\n\nthis is the text part.\n']);
    await ui.mailbox.open(user(u2).name);
    await ui.mailbox.openMessage('a plain one');
    await page.screenshot({ path: path.join(SHOTS, 'mail-1280.png') });
    await ui.sessions.open();
    await ui.sessions.openSession('smtp', 'EHLO');
    await page.screenshot({ path: path.join(SHOTS, 'sessions-1280.png') });
    await page.setViewportSize({ width: 390, height: 844 });
    onTestFinished(() => page.setViewportSize({ width: 1280, height: 800 }));
    await ui.mailbox.open(user(u2).name);
    await ui.mailbox.row('a plain one').waitFor();
    await page.screenshot({ path: path.join(SHOTS, 'list-390.png') });
    await ui.mailbox.openMessage('a plain one');
    await page.screenshot({ path: path.join(SHOTS, 'message-390.png') });
    // At 390 px the message is the only column, and nothing is wider than the screen.
    expect(await ui.mailbox.visible()).toBe(false);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await ui.sessions.open();
    await page.screenshot({ path: path.join(SHOTS, 'sessions-390.png') });
    for (const f of ['mail-1280.png', 'sessions-1280.png', 'list-390.png', 'message-390.png'])
      expect(fs.statSync(path.join(SHOTS, f)).size).toBeGreaterThan(5000);
  });
});
