// sstt-mail server: SMTP, submission (AUTH required), POP3 and IMAP on the scenario's ports and,
// when the pki has issued the server certificate, STARTTLS/STLS and POP3S/IMAPS.
// Only this file reads argv, the environment and files.
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import type tls from 'node:tls';
import { certPaths, loadScenario, parseCommandLine, type Scenario, type Service } from '@sstt/scenario';
import { createLogger, ListenError, runApp, type Closable } from '@sstt/runtime';
import { openAppJournal } from '@sstt/events';
import { AuthPenalty } from './auth-penalty.ts';
import { cachingResolver, createMailAuth, dnsResolver, type DkimSigningKey, loadMailauth, type MailAuth } from './mail-auth.ts';
import { MaildirDelivery } from './maildir.ts';
import { createSmtpServer } from './smtp.ts';
import { createOutboundRunner } from './smtp-outbound.ts';
import { MailboxCache } from './pop3/mailbox.ts';
import { createPop3Server } from './pop3/server.ts';
import { createImapServer } from './imap/server.ts';

const log = createLogger({ name: 'mail', level: process.env.SSTT_LOG_LEVEL, format: process.env.SSTT_LOG_FORMAT });

interface Listener {
  listen(): Promise<AddressInfo[]>;
  close(): Promise<void>;
}

/** The server key and certificate, and the CA so that the chain is sent, if packages/pki has written them. */
function readServerTls(s: Scenario): tls.SecureContextOptions | undefined {
  const { server, ca } = certPaths(s);
  if (!fs.existsSync(server.cert) || !fs.existsSync(server.key)) return undefined;
  return { key: fs.readFileSync(server.key), cert: fs.readFileSync(server.cert), ...(fs.existsSync(ca.cert) ? { ca: fs.readFileSync(ca.cert) } : {}) };
}

/** The DKIM private keys packages/pki wrote (certs/dkim), those that exist. */
function readSigningKeys(s: Scenario): DkimSigningKey[] {
  const keys: DkimSigningKey[] = [];
  for (const k of s.mail.auth.dkim) {
    const file = certPaths(s).dkim(k.selector).key;
    if (!fs.existsSync(file)) {
      log.warn({ selector: k.selector, key: file }, 'no DKIM key: mail is not signed with this selector (run the pki)');
      continue;
    }
    keys.push({ selector: k.selector, algorithm: k.algorithm, privateKey: fs.readFileSync(file, 'utf8') });
  }
  return keys;
}

/**
 * Signing and checking as `mail.auth` says, every DNS question to the domain's own DNS app
 * (our zone, and the rest through its forwarders), never to the machine's resolver.
 */
function mailAuthOf(s: Scenario): MailAuth | undefined {
  const a = s.mail.auth;
  if (!a.verify && !a.sign) return undefined;
  const host = s.listen.address === '0.0.0.0' ? '127.0.0.1' : s.listen.address;
  return createMailAuth({
    authservId: a.authservId,
    domain: s.domain,
    signingKeys: a.sign ? readSigningKeys(s) : [],
    verify: a.verify,
    enforce: a.enforce,
    resolver: cachingResolver(dnsResolver({ host, port: s.listen.ports.dns })),
  });
}

async function listenAs(service: Service, host: string, port: number, handle: Listener, started: Closable[]): Promise<void> {
  let addresses: AddressInfo[];
  try {
    addresses = await handle.listen();
  } catch (err) {
    await Promise.allSettled(started.map((c) => c.close()));
    throw new ListenError(service, host, port, err as NodeJS.ErrnoException);
  }
  started.push(handle);
  for (const a of addresses) log.info({ service, address: a.address, port: a.port }, 'listening');
}

runApp({
  app: 'sstt-mail',
  log,
  start: async () => {
    const { values } = parseCommandLine(process.argv.slice(2));
    const s = loadScenario({ flags: values });
    const journal = openAppJournal(s, 'mail'); // the sessions the console's timeline shows
    const host = s.listen.address;
    const ports = s.listen.ports;
    const serverTls = readServerTls(s);
    if (!serverTls) log.warn({ cert: certPaths(s).server.cert }, 'no server certificate: STARTTLS, STLS, POP3S and IMAPS are off (run the pki first)');
    const started: Closable[] = [];
    // One login penalty table for every listener: changing protocol does not reset it.
    const penalty = new AuthPenalty({ baseMs: s.mail.limits.authPenaltyMs, maxMs: s.mail.limits.authPenaltyMaxMs });
    const auth = mailAuthOf(s);
    const shared = serverTls ? { tls: serverTls, penalty, journal } : { penalty, journal };
    // One delivery (its directory descriptors) for both SMTP listeners, one login cache for both
    // POP3 listeners: they serve the same Maildirs. The delivery closes with the listeners; a
    // message still being delivered then is fsynced on a descriptor of its own.
    const delivery = new MaildirDelivery();
    started.push(delivery);
    const smtpShared = { ...shared, delivery, ...(auth ? { auth } : {}) };
    const mailboxCache = new MailboxCache();
    // SSTT_RAW_TCP=net puts the plain POP3 listener on node:net (runtime tcp.ts).
    const transport = process.env.SSTT_RAW_TCP === 'net' ? ('net' as const) : undefined;

    // One queue runner (smarthost forwarding) for both SMTP listeners.
    const outbound = createOutboundRunner(s, { log });
    started.push(outbound);
    await listenAs('smtp', host, ports.smtp, createSmtpServer({ scenario: s, host, port: ports.smtp, log, outbound, ...smtpShared }), started);
    await listenAs(
      'submission',
      host,
      ports.submission,
      createSmtpServer({ scenario: s, host, port: ports.submission, submission: true, log, outbound, ...smtpShared }),
      started,
    );

    await listenAs('pop3', host, ports.pop3, createPop3Server({ scenario: s, host, port: ports.pop3, log, transport, mailboxCache, ...shared }), started);
    if (serverTls)
      await listenAs(
        'pop3s',
        host,
        ports.pop3s,
        createPop3Server({ scenario: s, host, port: ports.pop3s, implicitTls: true, tls: serverTls, penalty, journal, mailboxCache, log }),
        started,
      );
    // IMAP beside POP3 on the same Maildirs (dovecot lets both share a mailbox; POP3's lock stays POP3's).
    await listenAs('imap', host, ports.imap, createImapServer({ scenario: s, host, port: ports.imap, log, transport, ...shared }), started);
    if (serverTls)
      await listenAs(
        'imaps',
        host,
        ports.imaps,
        createImapServer({ scenario: s, host, port: ports.imaps, implicitTls: true, tls: serverTls, penalty, journal, log }),
        started,
      );
    // Every port answers: now load mailauth, before the first message needs it (mail-auth.ts).
    if (auth) void loadMailauth().catch((err: unknown) => log.error({ err }, 'mailauth failed to load: received mail cannot be authenticated'));
    return started;
  },
});
