// Thunderbird's account wizard (its Account Hub's own modules, run headless through Marionette in
// the order the hub runs them: FindConfig's discovery, ConfigVerifier's login, CreateInBackend)
// with the address and the password alone ends on an IMAP account of our server: the discovery
// reads our autoconfig XML from our HTTP server (apps/http), which offers IMAP first.
// Thunderbird is pointed at our servers only: its ISPDB lookup goes to our HTTP server, the
// lookups that would leave the machine are off (the ISP's own autoconfig host and Exchange
// autodiscovery by preference; the MX lookup, which has no preference and asks the system
// resolver, is replaced for the test by one that finds nothing), and the servers the XML names
// are this machine's loopback address (the dev profile).
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpServer } from '@sstt/http';
import type { Scenario } from '@sstt/scenario';
import { startServer, type Started } from '@sstt/testkit';
import { maildirOf } from '@sstt/scenario';
import { MaildirDelivery } from '../src/maildir.ts';
import { startImap } from './imap-helpers.ts';
import { startThunderbird, type Thunderbird, URL_DONE } from './marionette.ts';
import { pop3Scenario, type Pop3World } from './pop3-helpers.ts';

let w: Pop3World;
let imap: Started;
let http: Started;
let tb: Thunderbird;
let s: Scenario;

/** A fresh profile, no account: discovery kept on this machine, its ISPDB lookup on our HTTP server. */
function wizardPrefs(httpPort: number): Record<string, string | number | boolean> {
  return {
    // The ISPDB lookup ("fromDB": the URL with the domain appended) asks our HTTP server.
    'mailnews.auto_config_url': `http://127.0.0.1:${httpPort}/mail/config-v1.1.xml?domain=`,
    'mailnews.auto_config.fetchFromISP.enabled': false,
    'mailnews.auto_config.fetchFromExchange.enabled': false,
    'mailnews.auto_config.guess.enabled': false,
  };
}

beforeAll(async () => {
  w = pop3Scenario();
  imap = await startImap({ scenario: w.s, plaintextAuth: true });
  // The scenario the HTTP server publishes: the dev profile's loopback servers, with the port our IMAP listens on.
  s = { ...w.s, mail: { ...w.s.mail, plaintextAuth: true }, listen: { ...w.s.listen, address: '127.0.0.1', ports: { ...w.s.listen.ports, imap: imap.port } } };
  http = await startServer(createHttpServer({ scenario: s, host: '127.0.0.1', port: 0, logDir: false }));
  tb = await startThunderbird(w.root, path.join(w.root, 'tb-wizard-profile'), wizardPrefs(http.port));
}, 120_000);

afterAll(async () => {
  await tb?.stop();
  await http?.close();
  await imap?.close();
  w?.remove();
});

describe("Thunderbird's account wizard", () => {
  it('with the address and the password alone, finds our autoconfig, logs in over IMAP and creates an IMAP account', async () => {
    const user = w.s.users[0]!;
    const delivery = new MaildirDelivery();
    await delivery.deliver(
      [maildirOf(w.s, user.name)],
      Buffer.from(`From: someone@example.test\r\nTo: ${user.email}\r\nSubject: found by the wizard\r\n\r\nhi\r\n`),
    );
    await delivery.close();
    const result = await tb.m.run<{
      error?: string;
      source: string;
      offered: string[];
      type: string;
      /** The server's URI (imap://user@host). */
      host: string;
      port: number;
      username: string;
      accounts: string[];
      subjects: string[];
    }>(
      `const [email, password, done] = arguments;
       (async () => {
         const { FindConfig } = ChromeUtils.importESModule("resource:///modules/accountcreation/FindConfig.sys.mjs");
         const { FetchConfig } = ChromeUtils.importESModule("resource:///modules/accountcreation/FetchConfig.sys.mjs");
         const { AccountConfig } = ChromeUtils.importESModule("resource:///modules/accountcreation/AccountConfig.sys.mjs");
         const { ConfigVerifier } = ChromeUtils.importESModule("resource:///modules/accountcreation/ConfigVerifier.sys.mjs");
         const { CreateInBackend } = ChromeUtils.importESModule("resource:///modules/accountcreation/CreateInBackend.sys.mjs");
         const { MailServices } = ChromeUtils.importESModule("resource:///modules/MailServices.sys.mjs");
         const { AccountCreationUtils } = ChromeUtils.importESModule("resource:///modules/accountcreation/AccountCreationUtils.sys.mjs");
         const domain = email.split("@")[1];
         // The MX lookup asks the system resolver (no preference turns it off): nothing found, locally.
         // Debian has shipped two shapes of the wizard's discovery: Thunderbird 153 (an async
         // generator taking a signal, lookups as promises) and 140 ESR (a promise taking an
         // Abortable, lookups with callbacks); a fresh Debian 12 machine may get either.
         let config;
         if (FindConfig.parallelAutoDiscovery.constructor.name === "AsyncGeneratorFunction") {
           FetchConfig.forMX = async () => { throw new Error("no MX lookup in this test"); };
           config = (await FindConfig.parallelAutoDiscovery(domain, email, new AbortController().signal, password, "").next()).value;
         } else {
           FetchConfig.forMX = (d, e, ok, fail) => {
             Promise.resolve().then(() => fail(new Error("no MX lookup in this test")));
             return new AccountCreationUtils.Abortable();
           };
           config = await FindConfig.parallelAutoDiscovery(new AccountCreationUtils.SuccessiveAbortable(), domain, email);
         }
         const offered = [config.incoming, ...config.incomingAlternatives].map((i) => i.type + ":" + i.socketType);
         // The hub: the address and password into the config, the login tried, the account made.
         AccountConfig.replaceVariables(config, "Test User", email, password);
         const verified = await new ConfigVerifier(null, new AbortController().signal).verifyConfig(config, config.source != AccountConfig.kSourceXML);
         config.incoming.auth = verified.incoming.auth;
         config.incoming.username = verified.incoming.username;
         const account = await CreateInBackend.createAccountInBackend(config);
         const server = account.incomingServer;
         // The account works: its inbox, read over IMAP, has the delivered message.
         ${URL_DONE}
         await urlDone((l) => MailServices.imap.discoverAllFolders(server.rootFolder, l, null));
         const inbox = server.rootFolder.getFolderWithFlags(Ci.nsMsgFolderFlags.Inbox);
         await urlDone((l) => inbox.QueryInterface(Ci.nsIMsgImapMailFolder).updateFolderWithListener(null, l));
         done({
           source: config.source + "/" + (config.subSource || ""),
           offered,
           type: server.type,
           host: server.serverURI,
           port: server.port,
           username: server.username,
           accounts: MailServices.accounts.accounts.map((a) => a.incomingServer.type),
           subjects: [...inbox.messages].map((h) => h.mime2DecodedSubject),
         });
       })().catch((e) => done({ error: String(e) + " " + (e && e.stack) }));`,
      [user.email, user.password],
    );
    expect(result.error).toBeUndefined();
    // Found through the ISPDB lookup, i.e. our HTTP server's XML; the account is IMAP on our server.
    expect(result).toMatchObject({ source: 'xml/xml-from-db', type: 'imap', host: `imap://${user.name}@127.0.0.1`, port: imap.port, username: user.name });
    // What the XML offers, in its order (nsMsgSocketType: 0 plain, 2 STARTTLS, 3 SSL/TLS): IMAP first, POP3 as the alternative.
    expect(result.offered).toEqual(['imap:0', 'imap:2', 'imap:3', 'pop3:0', 'pop3:2', 'pop3:3']);
    // The new IMAP account beside Thunderbird's Local Folders ("none").
    expect(result.accounts).toEqual(['imap', 'none']);
    expect(result.subjects).toEqual(['found by the wizard']);
  }, 120_000);
});
