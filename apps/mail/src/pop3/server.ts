// The POP3 server factory (STYLE §1): one listener (../mail-listener.ts), plain (with STLS when
// TLS is configured) or implicit TLS (RFC 8314 §3.3, the POP3S port); one Pop3Session per
// connection. The plain listener runs on @sstt/runtime's raw TCP transport (libuv's handle
// without net.Socket's stream machinery: bench/RESULTS-pop3.md), node:net with `transport: 'net'`.
import { createMailListener, type MailListener, mailServerBasics, type MailServerOptions } from '../mail-listener.ts';
import { POP3_LIMITS, type Pop3Limits } from './limits.ts';
import { MailboxCache } from './mailbox.ts';
import { Pop3Session, type ServerContext } from './session.ts';

export { POP3_LIMITS, type Pop3Limits } from './limits.ts';

/** The greeting (RFC 1939 §4), shaped like the lab's dovecot ("+OK Dovecot ready."). */
export const POP3_GREETING = '+OK sstt ready.';

export interface Pop3ServerOptions extends MailServerOptions, Partial<Pop3Limits> {
  /**
   * What each login read, for the next login of the same Maildir (mailbox.ts); share one between
   * the POP3 and POP3S listeners. Default: the server's own, emptied by close().
   */
  mailboxCache?: MailboxCache;
}

/** The handle (STYLE §1): listen(), close(). */
export type Pop3Server = MailListener;

export function createPop3Server(options: Pop3ServerOptions): Pop3Server {
  const { scenario } = options;
  const basics = mailServerBasics(options, { ...POP3_LIMITS, idleTimeoutMs: scenario.mail.limits.pop3IdleTimeoutMs } as Pop3Limits, {
    plain: 'pop3',
    implicit: 'pop3s',
    greeting: POP3_GREETING,
    ports: [scenario.listen.ports.pop3, scenario.listen.ports.pop3s],
  });
  const { limits } = basics;
  const implicitTls = options.implicitTls ?? false;
  const ctx: ServerContext = { ...basics.context, limits, mailboxCache: options.mailboxCache ?? new MailboxCache() };
  const listener = createMailListener({
    service: implicitTls ? 'pop3s' : 'pop3',
    scenario,
    host: basics.host,
    port: basics.port,
    tls: basics.tls,
    transport: options.transport,
    log: ctx.log,
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
