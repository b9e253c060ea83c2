// The shapes the console's JSON API sends that the server modules and the front end (ui/) both
// name: declared once here, types only (no imports), so the browser bundle can import them too.

/** One line of a session's dialogue. c: the client, s: the server, tls: the handshake, note: something the console adds. */
export interface Line {
  t: number;
  dir: 'c' | 's' | 'tls' | 'note';
  text: string;
  secret?: boolean;
}

/** The TLS of a session: version, cipher and the client certificate's subject, if any. */
export type SessionTls = { version: string; cipher: string; peer?: string } | null;

/** A session in the timeline's list (GET /api/v1/sessions). */
export interface SessionSummary {
  id: string;
  protocol: string;
  client: string;
  start: number;
  end: number | null;
  lines: number;
  summary: string;
  tls: SessionTls;
  smtpIds: string[];
  user?: string;
  rcode?: string;
}

/** An attachment of a message (GET /api/v1/messages/{id}). */
export interface AttachmentInfo {
  index: number;
  filename: string;
  contentType: string;
  size: number;
  contentId?: string;
  inline: boolean;
}

/** A record of the zones (GET /api/v1/dns/zone): owner with its final dot, data as dig prints it. */
export interface ZoneRecordRow {
  zone: string;
  name: string;
  ttl: number;
  type: string;
  data: string;
}
