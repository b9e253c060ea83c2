// Named timeouts and limits of the POP3 server; every one can be overridden by the factory's
// options. The connection limits and login penalties shared with SMTP are scenario.mail.limits
// (MAIL_LIMITS in packages/scenario).

export const POP3_LIMITS = {
  /** RFC 1939 §3: the autologout timer "MUST be of at least 10 minutes' duration". */
  idleTimeoutMs: 10 * 60_000,
  /** Failed logins on one connection before it is closed (the delays are auth-penalty.ts's). */
  maxAuthFailuresPerConnection: 3,
  /** Longest command line (RFC 2449 §4: 255 octets for commands; RFC 5034 SASL responses are longer). */
  maxLineOctets: 2048,
  /** -ERR replies on one connection before it is closed. */
  maxErrors: 20,
  /** Pipelined commands buffered before we stop reading the socket (RFC 2449 §6.6). */
  maxPipelined: 256,
  /** How long close() lets a session finish its current command before destroying it. */
  closeGraceMs: 3000,
} as const;

export type Pop3Limits = { -readonly [K in keyof typeof POP3_LIMITS]: number };
