// Named timeouts and limits of the IMAP server; every one can be overridden by the factory's
// options. The connection limits and login penalties shared with SMTP and POP3 are
// scenario.mail.limits (MAIL_LIMITS in packages/scenario).

export const IMAP_LIMITS = {
  /**
   * RFC 9051 §5.4: an autologout timer for an authenticated client "MUST be of at least 30
   * minutes' duration" (RFC 3501 §5.4 the same).
   */
  idleTimeoutMs: 30 * 60_000,
  /** Before login the same RFC allows a shorter one (dovecot's login processes: 3 min). */
  loginTimeoutMs: 3 * 60_000,
  /** Failed logins on one connection before it is closed (the delays are auth-penalty.ts's). */
  maxAuthFailuresPerConnection: 3,
  /** Longest command line, literals excluded (dovecot's imap_max_line_length: 64 KiB). */
  maxLineOctets: 65_536,
  /** Largest literal of any command but APPEND (a password, a search string). */
  maxLiteralOctets: 65_536,
  /** BAD replies on one connection before it is closed (dovecot: 20, CLIENT_MAX_BAD_COMMANDS). */
  maxErrors: 20,
  /** Commands buffered before we stop reading the socket. */
  maxPipelined: 256,
  /** How long close() lets a session finish its current command before destroying it. */
  closeGraceMs: 3000,
} as const;

export type ImapLimits = { -readonly [K in keyof typeof IMAP_LIMITS]: number };
