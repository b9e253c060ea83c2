// The IMAP server factory (STYLE §1): one listener (../mail-listener.ts), plain with STARTTLS
// when TLS is configured, or implicit TLS (RFC 8314 §3.3, the IMAPS port); one ImapSession per
// connection; the scenario's Maildirs, shared with delivery, POP3 and dovecot.
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { silentLogger, type Logger } from '@sstt/runtime';
import type { Journal } from '@sstt/events';
import type { Scenario } from '@sstt/scenario';
import { AuthPenalty } from '../auth-penalty.ts';
import { createMailListener } from '../mail-listener.ts';
import { mailTlsOptions } from '../tls.ts';
import { IMAP_LIMITS, type ImapLimits } from './limits.ts';
import { ImapSession, type ServerContext } from './session.ts';

export { IMAP_LIMITS, type ImapLimits } from './limits.ts';

/** The greeting's text (RFC 9051 §7.1.1), shaped like the lab's dovecot ("Dovecot (Debian) ready."). */
export const IMAP_GREETING = 'sstt ready.';

export interface ImapServerOptions extends Partial<ImapLimits> {
  scenario: Scenario;
  /** Default: scenario.listen.address. */
  host?: string;
  /** Default: scenario.listen.ports.imap, or .imaps with implicitTls. 0 = any free port. */
  port?: number;
  /** TLS from the first byte (IMAPS). Needs `tls`. */
  implicitTls?: boolean;
  /** Key, certificate and CA (with the profile of ../tls.ts); on a plain listener this enables STARTTLS. */
  tls?: tls.SecureContextOptions;
  log?: Logger;
  greeting?: string;
  /** Default: scenario.mail.plaintextAuth (false: logins only after STARTTLS or on IMAPS, RFC 9051 §6.2.3 LOGINDISABLED). */
  plaintextAuth?: boolean;
  /** Login penalties; share one between the mail listeners. Default: its own, from scenario.mail.limits. */
  penalty?: AuthPenalty;
  /** Plain listener's transport: 'raw' (default when available) or 'net'. */
  transport?: 'raw' | 'net';
  journal?: Journal;
  /** RFC 7889 APPENDLIMIT. Default: scenario.mail.maxSize (what SMTP accepts). */
  appendLimit?: number;
}

export interface ImapServer {
  listen(): Promise<AddressInfo[]>;
  close(): Promise<void>;
}

export function createImapServer(options: ImapServerOptions): ImapServer {
  const { scenario } = options;
  const limits: ImapLimits = { ...IMAP_LIMITS };
  for (const key of Object.keys(IMAP_LIMITS) as Array<keyof ImapLimits>) {
    const v = options[key];
    if (typeof v === 'number') limits[key] = v;
  }
  const log = options.log ?? silentLogger();
  const implicitTls = options.implicitTls ?? false;
  if (implicitTls && !options.tls) throw new Error('IMAPS (implicitTls) needs a certificate and key (tls option)');
  const tlsOptions = options.tls ? mailTlsOptions(options.tls) : undefined;
  const secureContext = tlsOptions ? tls.createSecureContext(tlsOptions) : undefined;
  const ctx: ServerContext = {
    scenario,
    limits,
    appendLimit: options.appendLimit ?? scenario.mail.maxSize,
    log,
    greeting: options.greeting ?? IMAP_GREETING,
    ...(secureContext ? { secureContext } : {}),
    plaintextAuth: options.plaintextAuth ?? scenario.mail.plaintextAuth,
    closing: false,
    penalty: options.penalty ?? new AuthPenalty({ baseMs: scenario.mail.limits.authPenaltyMs, maxMs: scenario.mail.limits.authPenaltyMaxMs }),
    journal: options.journal,
  };
  return createMailListener({
    service: implicitTls ? 'imaps' : 'imap',
    scenario,
    host: options.host ?? scenario.listen.address,
    port: options.port ?? (implicitTls ? scenario.listen.ports.imaps : scenario.listen.ports.imap),
    tls: implicitTls ? tlsOptions : undefined,
    transport: options.transport,
    log,
    idleTimeoutMs: limits.idleTimeoutMs,
    closeGraceMs: limits.closeGraceMs,
    refusal: (why) => (why === 'closing' ? '* BYE [UNAVAILABLE] Server shutting down.\r\n' : '* BYE [UNAVAILABLE] Too many connections, try again later.\r\n'),
    closing: () => ctx.closing,
    setClosing: () => (ctx.closing = true),
    session: (conn, secure) => new ImapSession(conn, ctx, secure),
  });
}
