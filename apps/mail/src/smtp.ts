// The SMTP server of the domain (RFC 5321), built on smtp-server: the exim of the seed.
//
// - Local users (scenario.users) of the domain get their mail in <paths.mail>/<user>/Maildir;
//   an unknown local user is refused at RCPT (550 5.1.1).
// - Other domains are relayed only for clients of scenario.mail.relayNets (the LAN in the lab,
//   exim's relay_from_hosts) or after AUTH; relayed mail is queued durably in
//   <paths.mail>/.outbound/<domain>/Maildir and, when scenario.mail.smarthost is set, forwarded
//   there (smtp-outbound.ts). Anyone else gets 550 5.7.1 relaying denied.
// - `250 OK id=<id>` is sent only once the message is durable in every recipient's Maildir
//   (see maildir.ts).
// - The submission listener (RFC 6409) is the same server with AUTH required.
// - AUTH PLAIN LOGIN is offered after STARTTLS, or in clear from the LAN/loopback when
//   scenario.mail.plaintextAuth allows it (RFC 4954 §4: a server may refuse plaintext mechanisms
//   without TLS; the lab wants them visible in Wireshark).
import net, { type AddressInfo } from 'node:net';
import type tls from 'node:tls';
import { SMTPServer, type SMTPServerAddress, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import { maildirOf, type Scenario } from '@sstt/scenario';
import { tapSession, type Journal } from '@sstt/events';
import { ConnectionLimiter, silentLogger, type Logger } from '@sstt/runtime';
import { PassThrough, type Readable } from 'node:stream';
import { AuthPenalty } from './auth-penalty.ts';
import type { MailAuth } from './mail-auth.ts';
import { ensureFolder, ensureMaildir, JUNK_FOLDER, receivedField, receivedProtocol } from '@sstt/maildir';
import { cleanTmp, MaildirDelivery, SizeExceededError, type Delivered } from './maildir.ts';
import { createOutboundRunner, envelopeHeader, OUTBOUND_DIR, outboundMaildir, type OutboundRunner } from './smtp-outbound.ts';
import { EximConnection, penaltyHeld } from './smtp-replies.ts';
import { rfc5322Date } from './smtp-date.ts';
import { mailTlsOptions } from './tls.ts';

export { OUTBOUND_DIR };

/** How long close() waits for sessions to finish before destroying them. */
export const SMTP_CLOSE_GRACE_MS = 3000;

export interface SmtpServerOptions {
  scenario: Scenario;
  host?: string;
  port?: number;
  /** Submission (RFC 6409): MAIL needs AUTH first. */
  submission?: boolean;
  /** Key, certificate and CA: STARTTLS is offered only when given (with the profile of tls.ts). */
  tls?: tls.SecureContextOptions;
  log?: Logger;
  /** Default: scenario.mail.limits.smtpIdleTimeoutMs (RFC 5321 §4.5.3.2.7: 5 minutes). */
  idleTimeoutMs?: number;
  closeGraceMs?: number;
  /** Login penalties; share one between the mail listeners. Default: its own, from scenario.mail.limits. */
  penalty?: AuthPenalty;
  /**
   * The runner forwarding relayed mail to the smarthost; share one between the SMTP and the
   * submission listener. Default: the server starts (and closes) its own.
   */
  outbound?: OutboundRunner;
  /**
   * DKIM signing and the checks on receipt (mail-auth.ts); share one between the listeners.
   * Without it (tests, `mail.auth` off) nothing is signed or checked and messages stream to disk.
   */
  auth?: MailAuth;
  /** The session journal each session's dialogue is published to (the console's timeline); none: nothing is recorded. */
  journal?: Journal;
  /**
   * Delivery into the Maildirs (its directory descriptors and group commit, maildir.ts); share
   * one between the SMTP listeners. Default: the server's own, closed by close().
   */
  delivery?: MaildirDelivery;
}

export interface SmtpServerHandle {
  listen(): Promise<AddressInfo[]>;
  close(): Promise<void>;
}

/** The MAIL FROM parameters of the extensions we advertise: SIZE (RFC 1870), BODY (RFC 6152), AUTH (RFC 4954 §5). */
const MAIL_PARAMS = new Set(['SIZE', 'BODY', 'AUTH']);

/** An SMTP error carrying its reply code, as smtp-server expects (`err.responseCode`). */
export function smtpError(code: number, text: string): Error & { responseCode: number } {
  return Object.assign(new Error(text), { responseCode: code });
}

/** A matcher for CIDR blocks ("10.0.0.0/8", "127.0.0.1/32", "::1/128", or a bare address). */
export function netMatcher(cidrs: string[]): (address: string) => boolean {
  const list = new net.BlockList();
  for (const cidr of cidrs) {
    const [addr, bits] = cidr.split('/');
    const family = net.isIPv6(addr!) ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(addr!, family);
    else list.addSubnet(addr!, Number(bits), family);
  }
  return (address) => {
    const a = address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
    return list.check(a, net.isIPv6(a) ? 'ipv6' : 'ipv4');
  };
}

/** Where one recipient's mail goes, or why it is refused. */
export type Route = { kind: 'local'; user: string; maildir: string } | { kind: 'relay'; domain: string; maildir: string };

/** Builds the recipient router of a scenario. */
export function createRouter(s: Scenario) {
  const users = new Map(s.users.map((u) => [u.name.toLowerCase(), u]));
  const localDomains = new Set([s.domain.toLowerCase()]);
  const relayFrom = netMatcher(s.mail.relayNets);
  return {
    isLocalDomain: (domain: string) => localDomains.has(domain.toLowerCase()),
    /** RCPT TO: local user, relay, or an SMTP error to answer. */
    route(address: string, session: { remoteAddress: string; user?: unknown }): Route | Error {
      const at = address.lastIndexOf('@');
      const local = (at < 0 ? address : address.slice(0, at)).toLowerCase();
      const domain = (at < 0 ? s.domain : address.slice(at + 1)).toLowerCase();
      if (localDomains.has(domain)) {
        // RFC 5321 §4.5.1: postmaster@<domain> (and bare "postmaster", §4.1.1.3, which smtp-server
        // lets through as the only domainless address) MUST be accepted; the local part is
        // case-insensitive there. It goes to the configured user.
        const user = users.get(local === 'postmaster' ? s.mail.postmaster : local);
        if (!user) return smtpError(550, '5.1.1 Unrouteable address: no such user here');
        return { kind: 'local', user: user.name, maildir: maildirOf(s, user.name) };
      }
      if (!relayFrom(session.remoteAddress) && !session.user) return smtpError(550, '5.7.1 relaying denied');
      // The domain becomes a directory name: only what a DNS name can hold (RFC 1035 §2.3.1).
      if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$|^\[[0-9a-f.:]+\]$/.test(domain)) {
        return smtpError(550, '5.1.2 Unrouteable address: bad domain');
      }
      return { kind: 'relay', domain, maildir: outboundMaildir(s, domain) };
    },
    /** The user an AUTH login name (with or without @domain) names, if any. */
    account(username: string): string | undefined {
      const at = username.lastIndexOf('@');
      const name = (at >= 0 && localDomains.has(username.slice(at + 1).toLowerCase()) ? username.slice(0, at) : username).toLowerCase();
      return users.get(name)?.name;
    },
    /** AUTH PLAIN/LOGIN: the user, when the password is theirs. */
    checkLogin(username: string, password: string): string | undefined {
      const name = this.account(username);
      return name !== undefined && users.get(name)!.password === password ? name : undefined;
    },
  };
}

let idCounter = 0;
const B62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
function base62(n: number, width: number): string {
  let out = '';
  for (let i = 0; i < width; i++) {
    out = B62[n % 62]! + out;
    n = Math.floor(n / 62);
  }
  return out;
}

/** A message id shaped like exim's (`1hXyZa-000123-Ab`): time, pid, sub-second counter. */
export function messageId(now = Date.now()): string {
  idCounter = (idCounter + 1) % (62 * 62);
  return `${base62(Math.floor(now / 1000), 6)}-${base62(process.pid, 6)}-${base62(idCounter, 2)}`;
}

/**
 * The trace headers an MTA adds at delivery (RFC 5321 §4.4): Return-Path with the envelope
 * sender and a Received: field in exim's layout (@sstt/maildir received.ts, which the console
 * reads the id back from).
 */
export function traceHeaders(s: Scenario, session: SMTPServerSession, id: string, now = new Date()): string {
  const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
  const rcpts = session.envelope.rcptTo;
  const received = receivedField({
    clientAddress: session.remoteAddress,
    helo: `${session.hostNameAppearsAs}`,
    by: `${s.hostname}.${s.domain}`,
    protocol: receivedProtocol({ esmtp: session.transmissionType !== 'SMTP', tls: Boolean(session.secure), authenticated: Boolean(session.user) }),
    envelopeFrom: from,
    id,
    ...(rcpts.length === 1 ? { for: rcpts[0]!.address } : {}),
    date: rfc5322Date(now),
  });
  return `Return-Path: <${from}>\r\n${received}`;
}

/** A client address without the IPv4-mapped prefix (SPF checks the IPv4 address, RFC 7208 §5). */
const plainAddress = (a: string) => a.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');

/** Reads a message into memory, refusing it past maxBytes (the rest is drained). */
async function collect(stream: Readable, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of stream) {
    size += (c as Buffer).length;
    if (size <= maxBytes) chunks.push(c as Buffer);
  }
  if (size > maxBytes) throw new SizeExceededError(maxBytes);
  return Buffer.concat(chunks);
}

export function createSmtpServer(options: SmtpServerOptions): SmtpServerHandle {
  const s = options.scenario;
  const log = options.log ?? silentLogger();
  const router = createRouter(s);
  // "The LAN/loopback" of the issue is the relay network: the LAN and 127.0.0.1 in the lab,
  // 127.0.0.1 and ::1 in dev (so that 127.0.0.2 can play an outside client in tests).
  const authNets = netMatcher(s.mail.relayNets);
  const policy = { plainAuthAllowed: (ip: string) => s.mail.plaintextAuth && authNets(ip) };
  const service = options.submission ? 'submission' : 'smtp';
  const penalty = options.penalty ?? new AuthPenalty({ baseMs: s.mail.limits.authPenaltyMs, maxMs: s.mail.limits.authPenaltyMaxMs });
  const ownOutbound = !options.outbound;
  let outbound: OutboundRunner = options.outbound ?? { poke: () => {}, close: async () => {} };
  const delivery = options.delivery ?? new MaildirDelivery();

  const idleTimeoutMs = options.idleTimeoutMs ?? s.mail.limits.smtpIdleTimeoutMs;
  const limiter = new ConnectionLimiter({ ...s.mail.limits, idleTimeoutMs, service, log });

  const server = new (class extends SMTPServer {
    // SMTPServer.connect with our connection class (exim's reply texts) and the connection limiter.
    override connect(socket: net.Socket | tls.TLSSocket, socketOptions?: ConstructorParameters<typeof EximConnection>[2]): void {
      // Over its address's connection rate: closed as it is accepted, before the banner.
      if (limiter.overRate(socket.remoteAddress ?? '')) return void socket.destroy();
      if (!limiter.admit(socket.remoteAddress ?? '')) {
        // RFC 5321 §3.8: 421 and close; nothing could be shed (every connection waits for us).
        socket.on('error', () => {});
        socket.end(`421 ${s.hostname} Too many connections, try again later\r\n`);
        setTimeout(() => socket.destroy(), 1000).unref();
        return;
      }
      const connection = new EximConnection(this, socket, socketOptions);
      connection.policy = policy;
      connection.tap = tapSession(options.journal, service, socket);
      limiter.add(connection);
      connection.onGone = () => limiter.delete(connection);
      this.connections.add(connection);
      connection.on('error', (err: Error) => this._onError(err));
      connection.on('connect', (data: Parameters<SMTPServer['_onClientConnect']>[0]) => this._onClientConnect(data));
      connection.init();
    }
  })({
    name: s.hostname,
    banner: 'sstt-mail', // + the date of each connection (smtp-replies.ts)
    logger: false,
    size: s.mail.maxSize,
    authMethods: ['PLAIN', 'LOGIN'],
    authOptional: !options.submission,
    // The per-connection policy (EximConnection._isSupported) decides where plaintext AUTH is offered.
    allowInsecureAuth: true,
    disabledCommands: options.tls ? [] : ['STARTTLS'],
    hideSTARTTLS: !options.tls,
    hideENHANCEDSTATUSCODES: true,
    hideDSN: true,
    hideSMTPUTF8: true,
    hideREQUIRETLS: true,
    disableReverseLookup: true,
    socketTimeout: idleTimeoutMs,
    closeTimeout: options.closeGraceMs ?? SMTP_CLOSE_GRACE_MS,
    // The client's FIN does not end our side at once: a client may half-close and still read its
    // replies (EximConnection closes once they are written).
    allowHalfOpen: true,
    // No maxClients: the connection limiter (@sstt/runtime connection-limits.ts) decides, in connect() above.
    ...(options.tls ? mailTlsOptions(options.tls) : {}),

    onAuth(auth, session, cb) {
      const username = typeof auth.username === 'string' ? auth.username : '';
      const password = auth.password;
      // After any login penalty (auth-penalty.ts); a failure's 535 is held for the new one.
      penaltyHeld.set(session, Date.now());
      void penalty
        .attempt(session.remoteAddress, router.account(username), () => (typeof password === 'string' ? router.checkLogin(username, password) : undefined))
        .then((user) => {
          penaltyHeld.delete(session);
          if (!user) {
            log.info({ service, remote: session.remoteAddress, method: auth.method }, 'authentication failed');
            cb(smtpError(535, 'Incorrect authentication data'));
            return;
          }
          cb(null, { user });
        });
    },

    onMailFrom(address: SMTPServerAddress, session, cb) {
      if (options.submission && !session.user) return cb(smtpError(530, 'Authentication required'));
      // RFC 5321 §4.1.1.11 / §4.5.3.1: a MAIL parameter of an extension we do not advertise is
      // refused with 555 (smtp-server would take SMTPUTF8, REQUIRETLS... silently). SMTPUTF8
      // (RFC 6531 §3.4) is not offered: Maildir names and mailparser would cope, but exim 4.86,
      // the seed's MTA, did not offer it either.
      const params = Object.keys(address.args || {});
      if (params.includes('SMTPUTF8')) return cb(smtpError(555, '5.5.4 SMTPUTF8 is not supported'));
      if (params.some((p) => !MAIL_PARAMS.has(p))) return cb(smtpError(555, '5.5.4 Unsupported MAIL FROM parameter'));
      cb();
    },

    onRcptTo(address: SMTPServerAddress, session, cb) {
      const route = router.route(address.address, session);
      cb(route instanceof Error ? route : undefined);
    },

    onData(stream: SMTPServerDataStream, session, cb) {
      const id = messageId();
      const trace = traceHeaders(s, session, id);
      // Every recipient was routed at RCPT; routing again gives the same answer.
      const local = new Set<string>();
      const relays = new Map<string, { maildir: string; rcpts: string[] }>();
      for (const r of session.envelope.rcptTo) {
        const route = router.route(r.address, session);
        if (route instanceof Error) continue;
        if (route.kind === 'local') local.add(route.maildir);
        else {
          const g = relays.get(route.domain) ?? { maildir: route.maildir, rcpts: [] };
          g.rcpts.push(r.address);
          relays.set(route.domain, g);
        }
      }
      const maxBytes = s.mail.maxSize;
      const auth = options.auth;
      let outcome: Awaited<ReturnType<MailAuth['process']>> | undefined;
      /** Authentication's verdict on the whole message (mail-auth.ts); a reject is refused at the end of DATA, nothing stored (RFC 7489 §6.6.4). */
      const check = async (message: Buffer) => {
        outcome = await auth!.process(message, {
          ip: plainAddress(session.remoteAddress),
          helo: session.hostNameAppearsAs ?? '',
          mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          trusted: Boolean(session.user) || authNets(session.remoteAddress),
        });
        const d = outcome.disposition;
        if (d.action === 'reject') throw smtpError(550, `5.7.1 ${d.reason}`);
        return { message: outcome.message, quarantine: d.action === 'quarantine' };
      };
      const work = async () => {
        if (relays.size === 0 && !auth) return delivery.deliver([...local], stream, { prepend: trace, maxBytes });
        if (relays.size === 0) {
          // Checked mail for local users: the file is opened and the trace written while the
          // message arrives and is checked (an open costs as much as the checks, and the client
          // waits for both), then the checked message goes in, or the file goes if it must not.
          const body = new PassThrough();
          // Its failure reaches deliver() through the reading (which then removes the file): not an 'error' event to throw.
          body.on('error', () => {});
          const stored = delivery.deliver([...local], body, { prepend: trace });
          stored.catch(() => {});
          let verdict: Awaited<ReturnType<typeof check>>;
          try {
            verdict = await check(await collect(stream, maxBytes));
          } catch (err) {
            body.destroy(err as Error);
            await stored.catch(() => {});
            throw err;
          }
          if (!verdict.quarantine) {
            body.end(verdict.message);
            return stored;
          }
          body.destroy(new Error('quarantined: stored in the Junk folder instead'));
          await stored.catch(() => {});
          const junk = await Promise.all([...local].map((m) => ensureFolder(m, JUNK_FOLDER)));
          return delivery.deliver(junk, verdict.message, { prepend: trace });
        }
        // Relayed copies carry their envelope and authentication reads the whole message: the
        // stream is read once into memory here.
        let message = await collect(stream, maxBytes);
        let localDirs = [...local];
        if (auth) {
          const verdict = await check(message);
          if (verdict.quarantine) localDirs = await Promise.all(localDirs.map((m) => ensureFolder(m, JUNK_FOLDER)));
          message = verdict.message;
        }
        let first: Delivered | undefined;
        if (localDirs.length > 0) first = await delivery.deliver(localDirs, message, { prepend: trace });
        for (const g of relays.values()) {
          const d = await delivery.deliver([g.maildir], message, { prepend: envelopeHeader(g.rcpts) + trace });
          first ??= d;
        }
        if (relays.size > 0) outbound.poke();
        return first!;
      };
      work().then(
        (d) => {
          log.info(
            {
              service,
              id,
              from: session.envelope.mailFrom ? session.envelope.mailFrom.address : undefined,
              to: session.envelope.rcptTo.map((r) => r.address),
              size: d.size,
              ...(outcome ? { auth: outcome.summary, disposition: outcome.disposition.action } : {}),
            },
            'delivered',
          );
          cb(null, `OK id=${id}`);
        },
        (err: unknown) => {
          if (err instanceof SizeExceededError || stream.sizeExceeded) {
            cb(smtpError(552, 'Message size exceeds maximum permitted'));
            return;
          }
          if ((err as { responseCode?: number }).responseCode === 550) {
            log.info({ service, id, auth: outcome?.summary, disposition: 'reject' }, 'refused by DMARC policy');
            cb(err as Error);
            return;
          }
          log.error({ service, id, err }, 'delivery failed');
          // RFC 5321 §4.2.5: a transient local error, the client keeps the message and retries.
          cb(smtpError(451, 'Temporary local problem - please try later'));
        },
      );
    },
  });
  server.on('error', (err: Error) => log.warn({ service, err: err.message }, 'smtp session error'));

  const host = options.host ?? s.listen.address;
  const port = options.port ?? s.listen.ports[service];
  return {
    listen: async () => {
      // Every user has a Maildir from the start (POP3 logins find an empty mailbox, as with
      // exim + dovecot), and debris of deliveries cut short by a crash is cleared from tmp/.
      for (const u of s.users) {
        const dir = maildirOf(s, u.name);
        await ensureMaildir(dir);
        await cleanTmp(dir);
      }
      if (ownOutbound) outbound = createOutboundRunner(s, { log });
      return new Promise<AddressInfo[]>((resolve, reject) => {
        const onError = (err: Error) => reject(err);
        server.server.once('error', onError);
        server.server.listen(port, host, () => {
          server.server.off('error', onError);
          resolve([server.server.address() as AddressInfo]);
        });
      });
    },
    close: async () => {
      limiter.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (ownOutbound) await outbound.close();
      if (!options.delivery) await delivery.close();
    },
  };
}
