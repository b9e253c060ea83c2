// Thunderbird (Debian's, headless) with an IMAP account on our server, driven through Marionette
// in its chrome context the way its own mozmill tests drive it: it downloads a delivered
// message, marks it read, moves it to Trash and saves a sent message in Sent; each step is
// checked in the Maildir on disk.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maildirOf } from '@sstt/scenario';
import { flagsOf } from '@sstt/maildir';
import type { Started } from '@sstt/testkit';
import { MaildirDelivery } from '../src/maildir.ts';
import { whenDir } from './helpers.ts';
import { startImap } from './imap-helpers.ts';
import { type Marionette, startThunderbird, type Thunderbird, URL_DONE } from './marionette.ts';
import { pop3Scenario, type Pop3World } from './pop3-helpers.ts';

let w: Pop3World;
let srv: Started;
let tb: Thunderbird;
let m: Marionette;
let user: { name: string; password: string; email: string };
let md: string;

/** The IMAP account (plain, "Normal password"), as the account wizard would leave it. */
function accountPrefs(imapPort: number): Record<string, string | number | boolean> {
  return {
    'mail.accountmanager.accounts': 'account1',
    'mail.accountmanager.defaultaccount': 'account1',
    'mail.account.account1.server': 'server1',
    'mail.account.account1.identities': 'id1',
    'mail.server.server1.type': 'imap',
    'mail.server.server1.hostname': '127.0.0.1',
    'mail.server.server1.port': imapPort,
    'mail.server.server1.userName': user.name,
    'mail.server.server1.socketType': 0,
    'mail.server.server1.authMethod': 3,
    'mail.server.server1.login_at_startup': false,
    'mail.server.server1.check_new_mail': false,
    'mail.identity.id1.useremail': user.email,
    'mail.identity.id1.fullName': user.name,
  };
}

beforeAll(async () => {
  w = pop3Scenario();
  const u = w.s.users[0]!;
  user = { name: u.name, password: u.password, email: u.email };
  md = maildirOf(w.s, user.name);
  srv = await startImap({ scenario: w.s, plaintextAuth: true });
  tb = await startThunderbird(w.root, path.join(w.root, 'tb-profile'), accountPrefs(srv.port));
  m = tb.m;
  // The password as the account wizard would keep it (the login manager), for this run.
  await m.run(
    `const [pass, done] = arguments;
     const { MailServices } = ChromeUtils.importESModule("resource:///modules/MailServices.sys.mjs");
     MailServices.accounts.accounts[0].incomingServer.password = pass;
     done(true);`,
    [user.password],
  );
}, 120_000);

afterAll(async () => {
  await tb?.stop();
  await srv?.close();
  w?.remove();
});

/** Chrome-context helpers every step uses: the server, its folders, a URL listener as a promise. */
const PRELUDE = `
const { MailServices } = ChromeUtils.importESModule("resource:///modules/MailServices.sys.mjs");
const server = MailServices.accounts.accounts[0].incomingServer;
const root = server.rootFolder;
const folder = (flag) => root.getFolderWithFlags(flag);
${URL_DONE}const copyDone = (start) => new Promise((resolve, reject) => start({
  onStartCopy() {}, onProgress() {}, setMessageKey() {}, getMessageId() { return null; },
  onStopCopy(status) { status === 0 ? resolve() : reject(new Error("copy failed " + status)); },
  QueryInterface: ChromeUtils.generateQI(["nsIMsgCopyServiceListener"]),
}));
`;

describe('Thunderbird with an IMAP account', () => {
  it('downloads a delivered message, marks it read, moves it to Trash, saves a sent message in Sent', async () => {
    const delivery = new MaildirDelivery();
    await delivery.deliver(
      [md],
      Buffer.from(`From: someone@example.test\r\nTo: ${user.email}\r\nSubject: for thunderbird\r\nMessage-ID: <tb1@example.test>\r\n\r\nhello thunderbird\r\n`),
    );
    await delivery.close();

    // Folder discovery (LIST), then the inbox's headers and the message's body (FETCH).
    const seen = await m.run<{ folders: string[]; subjects: string[]; body: string }>(
      `${PRELUDE}
       const done = arguments[arguments.length - 1];
       (async () => {
         await urlDone((l) => MailServices.imap.discoverAllFolders(root, l, null));
         const inbox = folder(Ci.nsMsgFolderFlags.Inbox);
         await urlDone((l) => inbox.QueryInterface(Ci.nsIMsgImapMailFolder).updateFolderWithListener(null, l));
         const hdrs = [...inbox.messages];
         const uri = inbox.getUriForMsg(hdrs[0]);
         const service = MailServices.messageServiceFromURI(uri);
         const body = await new Promise((resolve, reject) => {
           let text = "";
           const listener = {
             onStartRequest() {},
             onDataAvailable(req, stream, offset, count) {
               const s = Cc["@mozilla.org/scriptableinputstream;1"].createInstance(Ci.nsIScriptableInputStream);
               s.init(stream); text += s.read(count);
             },
             onStopRequest(req, status) { status === 0 ? resolve(text) : reject(new Error("fetch " + status)); },
             QueryInterface: ChromeUtils.generateQI(["nsIStreamListener"]),
           };
           service.streamMessage(uri, listener, null, null, false, "", false);
         });
         done({ folders: root.descendants.map((f) => f.name).sort(), subjects: hdrs.map((h) => h.mime2DecodedSubject), body });
       })().catch((e) => done({ error: String(e) }));`,
    );
    expect(seen).toMatchObject({ subjects: ['for thunderbird'] });
    expect(seen.folders).toEqual(expect.arrayContaining(['Drafts', 'Junk', 'Sent', 'Trash']));
    expect(seen.body).toContain('hello thunderbird');

    // Mark read: STORE +FLAGS (\\Seen), the S flag in the file's name.
    await m.run(
      `${PRELUDE}
       const done = arguments[arguments.length - 1];
       const inbox = folder(Ci.nsMsgFolderFlags.Inbox);
       inbox.markMessagesRead([...inbox.messages], true);
       done(true);`,
    );
    await whenDir(path.join(md, 'cur'), () => fs.readdirSync(path.join(md, 'cur')).some((n) => flagsOf(n).includes('S')), 'the message marked read on disk');

    // Move to Trash: MOVE (or COPY + STORE \\Deleted + EXPUNGE); the file leaves the inbox for .Trash.
    await m.run(
      `${PRELUDE}
       const done = arguments[arguments.length - 1];
       const inbox = folder(Ci.nsMsgFolderFlags.Inbox);
       const trash = folder(Ci.nsMsgFolderFlags.Trash);
       copyDone((l) => MailServices.copy.copyMessages(inbox, [...inbox.messages], trash, true, l, null, false)).then(() => done(true), (e) => done(String(e)));`,
    );
    await whenDir(path.join(md, '.Trash', 'cur'), () => fs.readdirSync(path.join(md, '.Trash', 'cur')).length === 1, 'the message in Trash on disk');
    const trashed = fs.readdirSync(path.join(md, '.Trash', 'cur'));
    expect(fs.readFileSync(path.join(md, '.Trash', 'cur', trashed[0]!), 'utf8')).toContain('Subject: for thunderbird');
    expect(flagsOf(trashed[0]!)).toContain('S');
    await whenDir(path.join(md, 'cur'), () => fs.readdirSync(path.join(md, 'cur')).length === 0, 'the inbox emptied on disk');

    // A sent message saved in Sent (APPEND), as Thunderbird does after sending.
    const eml = path.join(w.root, 'sent.eml');
    fs.writeFileSync(eml, `From: ${user.email}\r\nTo: someone@example.test\r\nSubject: sent from thunderbird\r\n\r\nmy reply\r\n`);
    const saved = await m.run(
      `${PRELUDE}
       const [file, done] = arguments;
       const sent = folder(Ci.nsMsgFolderFlags.SentMail);
       const f = Cc["@mozilla.org/file/local;1"].createInstance(Ci.nsIFile);
       f.initWithPath(file);
       copyDone((l) => MailServices.copy.copyFileMessage(f, sent, null, false, Ci.nsMsgMessageFlags.Read, "", l, null)).then(() => done(true), (e) => done(String(e)));`,
      [eml],
    );
    expect(saved).toBe(true);
    await whenDir(path.join(md, '.Sent', 'cur'), () => fs.readdirSync(path.join(md, '.Sent', 'cur')).length === 1, 'the sent message in Sent on disk');
    const sentFile = fs.readdirSync(path.join(md, '.Sent', 'cur'))[0]!;
    expect(flagsOf(sentFile)).toBe('S');
    expect(fs.readFileSync(path.join(md, '.Sent', 'cur', sentFile), 'utf8')).toContain('Subject: sent from thunderbird');
  });
});
