// The IMAP server factory (STYLE §1): one listener (../mail-listener.ts), plain with STARTTLS
// when TLS is configured, or implicit TLS (RFC 8314 §3.3, the IMAPS port); one ImapSession per
// connection; the scenario's Maildirs, shared with delivery, POP3 and dovecot.
import { FolderCache } from '@sstt/maildir';
import { createMailListener, type MailListener, mailServerBasics, type MailServerOptions } from '../mail-listener.ts';
import { IMAP_LIMITS, type ImapLimits } from './limits.ts';
import { ImapSession, type ServerContext } from './session.ts';

export { IMAP_LIMITS, type ImapLimits } from './limits.ts';

/** The greeting's text (RFC 9051 §7.1.1), shaped like the lab's dovecot ("Dovecot (Debian) ready."). */
export const IMAP_GREETING = 'sstt ready.';

export interface ImapServerOptions extends MailServerOptions, Partial<ImapLimits> {
  /** RFC 7889 APPENDLIMIT. Default: scenario.mail.maxSize (what SMTP accepts). */
  appendLimit?: number;
}

/** The handle (STYLE §1): listen(), close(). */
export type ImapServer = MailListener;

export function createImapServer(options: ImapServerOptions): ImapServer {
  const { scenario } = options;
  const basics = mailServerBasics(options, { ...IMAP_LIMITS } as ImapLimits, {
    plain: 'imap',
    implicit: 'imaps',
    greeting: IMAP_GREETING,
    ports: [scenario.listen.ports.imap, scenario.listen.ports.imaps],
  });
  const { limits } = basics;
  const implicitTls = options.implicitTls ?? false;
  const ctx: ServerContext = { ...basics.context, limits, appendLimit: options.appendLimit ?? scenario.mail.maxSize, folderCache: new FolderCache() };
  return createMailListener({
    service: implicitTls ? 'imaps' : 'imap',
    scenario,
    host: basics.host,
    port: basics.port,
    tls: basics.tls,
    transport: options.transport,
    log: ctx.log,
    idleTimeoutMs: limits.idleTimeoutMs,
    closeGraceMs: limits.closeGraceMs,
    refusal: (why) => (why === 'closing' ? '* BYE [UNAVAILABLE] Server shutting down.\r\n' : '* BYE [UNAVAILABLE] Too many connections, try again later.\r\n'),
    closing: () => ctx.closing,
    setClosing: () => (ctx.closing = true),
    session: (conn, secure) => new ImapSession(conn, ctx, secure),
  });
}
