// The POP3 server factory (STYLE §1): one listener (../mail-listener.ts), plain (with STLS when
// TLS is configured) or implicit TLS (RFC 8314 §3.3, the POP3S port); one Pop3Session per
// connection. The plain listener runs on @sstt/runtime's raw TCP transport (libuv's handle
// without net.Socket's stream machinery: bench/RESULTS-pop3.md), node:net with `transport: 'net'`.
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { silentLogger, type Logger } from '@sstt/runtime';
import type { Journal } from '@sstt/events';
import type { Scenario } from '@sstt/scenario';
import { AuthPenalty } from '../auth-penalty.ts';
import { createMailListener } from '../mail-listener.ts';
import { mailTlsOptions } from '../tls.ts';
import { POP3_LIMITS, type Pop3Limits } from './limits.ts';
import { MailboxCache } from './mailbox.ts';
import { Pop3Session, type ServerContext } from './session.ts';

export { POP3_LIMITS, type Pop3Limits } from './limits.ts';

/** The greeting (RFC 1939 §4), shaped like the lab's dovecot ("+OK Dovecot ready."). */
export const POP3_GREETING = '+OK sstt ready.';

export interface Pop3ServerOptions extends Partial<Pop3Limits> {
  scenario: Scenario;
  /** Default: scenario.listen.address. */
  host?: string;
  /** Default: scenario.listen.ports.pop3, or .pop3s with implicitTls. 0 = any free port. */
  port?: number;
  /** TLS from the first byte (POP3S). Needs `tls`. */
  implicitTls?: boolean;
  /** Key, certificate and CA (with the profile of ../tls.ts); on a plain listener this enables STLS. */
  tls?: tls.SecureContextOptions;
  log?: Logger;
  greeting?: string;
  /** Default: scenario.mail.plaintextAuth (false: logins only after STLS or on POP3S). */
  plaintextAuth?: boolean;
  /** Login penalties; share one between the mail listeners. Default: its own, from scenario.mail.limits. */
  penalty?: AuthPenalty;
  /** Plain listener's transport: 'raw' (default when available) or 'net' (main.ts: SSTT_RAW_TCP=net). */
  transport?: 'raw' | 'net';
  /** The session journal each session's dialogue is published to (the console's timeline); none: nothing is recorded. */
  journal?: Journal;
  /**
   * What each login read, for the next login of the same Maildir (mailbox.ts); share one between
   * the POP3 and POP3S listeners. Default: the server's own, emptied by close().
   */
  mailboxCache?: MailboxCache;
}

export interface Pop3Server {
  listen(): Promise<AddressInfo[]>;
  close(): Promise<void>;
}

export function createPop3Server(options: Pop3ServerOptions): Pop3Server {
  const { scenario } = options;
  const limits: Pop3Limits = { ...POP3_LIMITS, idleTimeoutMs: scenario.mail.limits.pop3IdleTimeoutMs };
  for (const key of Object.keys(POP3_LIMITS) as Array<keyof Pop3Limits>) {
    const v = options[key];
    if (typeof v === 'number') limits[key] = v;
  }
  const log = options.log ?? silentLogger();
  const implicitTls = options.implicitTls ?? false;
  if (implicitTls && !options.tls) throw new Error('POP3S (implicitTls) needs a certificate and key (tls option)');
  const host = options.host ?? scenario.listen.address;
  const port = options.port ?? (implicitTls ? scenario.listen.ports.pop3s : scenario.listen.ports.pop3);
  const tlsOptions = options.tls ? mailTlsOptions(options.tls) : undefined;
  const secureContext = tlsOptions ? tls.createSecureContext(tlsOptions) : undefined;
  const ctx: ServerContext = {
    scenario,
    limits,
    log,
    greeting: options.greeting ?? POP3_GREETING,
    ...(secureContext ? { secureContext } : {}),
    plaintextAuth: options.plaintextAuth ?? scenario.mail.plaintextAuth,
    closing: false,
    penalty: options.penalty ?? new AuthPenalty({ baseMs: scenario.mail.limits.authPenaltyMs, maxMs: scenario.mail.limits.authPenaltyMaxMs }),
    journal: options.journal,
    mailboxCache: options.mailboxCache ?? new MailboxCache(),
  };
  const listener = createMailListener({
    service: implicitTls ? 'pop3s' : 'pop3',
    scenario,
    host,
    port,
    tls: implicitTls ? tlsOptions : undefined,
    transport: options.transport,
    log,
    idleTimeoutMs: limits.idleTimeoutMs,
    closeGraceMs: limits.closeGraceMs,
    refusal: (why) => (why === 'closing' ? '-ERR [SYS/TEMP] Server shutting down.\r\n' : '-ERR [SYS/TEMP] Too many connections, try again later.\r\n'),
    closing: () => ctx.closing,
    setClosing: () => (ctx.closing = true),
    session: (conn, secure) => new Pop3Session(conn, ctx, secure),
  });
  return {
    listen: () => listener.listen(),
    async close() {
      await listener.close();
      if (!options.mailboxCache) ctx.mailboxCache.forget();
    },
  };
}
