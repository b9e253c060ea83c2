// `npx sstt-mail ls <user>` and `npx sstt-mail show <user> <n>`: a quick look into a user's
// Maildir without a mail client, parsed with mailparser. Read-only: it neither moves files
// from new/ to cur/ nor assigns UIDs. Messages are numbered in the order POP3 shows them
// (the UIDs of dovecot-uidlist when the mailbox has been read, then delivery time).
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';
import { baseOf, compareNames } from '@sstt/maildir';
import { ConfigError, loadScenario, maildirOf, parseCommandLine } from '@sstt/scenario';
import { runCli } from '@sstt/runtime';
import { parseUidList, UIDLIST_NAME } from '@sstt/maildir';

const USAGE = `usage: sstt-mail ls <user>          list a user's messages
       sstt-mail show <user> <n>    show message n (as numbered by ls)
Options: the scenario flags (--id, --data-dir, --config ...). <user> is a login name of the scenario (nombre1_<ID>, nombre2_<ID>).`;

export interface MailFile {
  /** 1-based number, as ls prints it. */
  n: number;
  file: string;
  size: number;
}

/** UIDs dovecot (or our POP3) assigned, by base name. */
function readUids(maildir: string): Map<string, number> {
  let text: string;
  try {
    text = fs.readFileSync(path.join(maildir, UIDLIST_NAME), 'utf8');
  } catch {
    return new Map();
  }
  return new Map((parseUidList(text)?.records ?? []).map((r) => [r.base, r.uid]));
}

/** The messages of a Maildir (new/ and cur/), in POP3 order. */
export function listMaildir(maildir: string): MailFile[] {
  const files: Array<{ base: string; file: string }> = [];
  for (const sub of ['cur', 'new']) {
    let names: string[] = [];
    try {
      names = fs.readdirSync(path.join(maildir, sub));
    } catch {
      continue;
    }
    for (const name of names) if (!name.startsWith('.')) files.push({ base: baseOf(name), file: path.join(maildir, sub, name) });
  }
  const uids = readUids(maildir);
  files.sort((a, b) => {
    const ua = uids.get(a.base);
    const ub = uids.get(b.base);
    if (ua !== undefined && ub !== undefined) return ua - ub;
    if (ua !== undefined) return -1;
    if (ub !== undefined) return 1;
    // the order in which a login gives them their UIDs
    return compareNames(a.base, b.base);
  });
  return files.map((f, i) => ({ n: i + 1, file: f.file, size: fs.statSync(f.file).size }));
}

function addresses(a: AddressObject | AddressObject[] | undefined): string {
  if (!a) return '';
  return (Array.isArray(a) ? a : [a]).map((x) => x.text).join(', ');
}

function attachmentsOf(m: ParsedMail): string[] {
  return m.attachments.map((a) => `${a.filename ?? '(unnamed)'} (${a.contentType}, ${a.size} bytes)`);
}

function fit(text: string, width: number): string {
  const t = text.replace(/\s+/g, ' ');
  return t.length > width ? `${t.slice(0, width - 1)}…` : t.padEnd(width);
}

function isoMinute(d: Date | undefined): string {
  return d ? d.toISOString().replace('T', ' ').slice(0, 16) : '';
}

export async function ls(maildir: string, out: (line: string) => void): Promise<number> {
  const list = listMaildir(maildir);
  out(`${list.length} message${list.length === 1 ? '' : 's'} in ${maildir}`);
  if (list.length === 0) return 0;
  out(`${'#'.padStart(4)}  ${fit('date (UTC)', 16)}  ${fit('from', 28)}  ${fit('to', 28)}  ${fit('subject', 30)}  ${'size'.padStart(8)}  attachments`);
  for (const msg of list) {
    const m = await simpleParser(fs.createReadStream(msg.file));
    const att = m.attachments.length ? m.attachments.map((a) => a.filename ?? '(unnamed)').join(', ') : '-';
    out(
      `${String(msg.n).padStart(4)}  ${fit(isoMinute(m.date), 16)}  ${fit(addresses(m.from), 28)}  ${fit(addresses(m.to), 28)}  ${fit(m.subject ?? '', 30)}  ${String(msg.size).padStart(8)}  ${att}`,
    );
  }
  return 0;
}

export async function show(maildir: string, n: number, out: (line: string) => void): Promise<number> {
  const list = listMaildir(maildir);
  const msg = list[n - 1];
  if (!msg) throw new ConfigError('command line', '<n>', `a message number from 1 to ${list.length}`, String(n));
  const m = await simpleParser(fs.createReadStream(msg.file));
  out(`Message:     ${msg.n} of ${list.length}`);
  out(`File:        ${msg.file}`);
  out(`Size:        ${msg.size} octets`);
  out(`From:        ${addresses(m.from)}`);
  out(`To:          ${addresses(m.to)}`);
  if (m.cc) out(`Cc:          ${addresses(m.cc)}`);
  out(`Subject:     ${m.subject ?? ''}`);
  out(`Date:        ${m.date ? m.date.toUTCString() : ''}`);
  if (m.messageId) out(`Message-ID:  ${m.messageId}`);
  const att = attachmentsOf(m);
  out(`Attachments: ${att.length ? att.join('; ') : 'none'}`);
  out('');
  const body = m.text ?? (typeof m.html === 'string' ? m.html.replace(/<[^>]+>/g, '') : '');
  out(body.replace(/\s+$/, ''));
  return 0;
}

export async function main(argv: string[], out: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<number> {
  const { values, positionals } = parseCommandLine(argv, { help: { type: 'boolean', short: 'h' } }, true);
  const [cmd, user, nText] = positionals;
  if (values.help || !cmd) {
    out(USAGE);
    return values.help ? 0 : 2;
  }
  const s = loadScenario({ flags: values });
  if (cmd !== 'ls' && cmd !== 'show') throw new ConfigError('command line', '<command>', 'ls or show', cmd);
  if (!user) throw new ConfigError('command line', '<user>', `a user of the scenario (${s.users.map((u) => u.name).join(', ')})`, '(missing)');
  const known = s.users.find((u) => u.name === user.toLowerCase() || u.email === user.toLowerCase());
  if (!known) throw new ConfigError('command line', '<user>', `a user of the scenario (${s.users.map((u) => u.name).join(', ')})`, user);
  const maildir = maildirOf(s, known.name);
  if (cmd === 'ls') return ls(maildir, out);
  const n = Number(nText);
  if (!nText || !Number.isInteger(n) || n < 1) throw new ConfigError('command line', '<n>', 'a message number (1, 2, ...)', nText ?? '(missing)');
  return show(maildir, n, out);
}

// pathToFileURL, not `file://` + the path: a URL percent-encodes (a checkout under `/home/a b/`).
if (
  (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) ||
  process.argv[1]?.endsWith('sstt-mail.mjs') ||
  process.argv[1]?.endsWith('sstt-mail')
) {
  // `sstt-mail ls user | head`: a closed pipe ends the listing quietly.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  runCli('sstt-mail', () => main(process.argv.slice(2)));
}
