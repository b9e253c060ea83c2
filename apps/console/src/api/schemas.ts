// The shapes of the console's API, declared once as zod schemas: what every call takes (path
// parameters, query, body) and what it answers. The server's handlers are typed by them and
// validate requests with them (resources/serve.ts), the front end imports their types (types only,
// so zod stays out of the browser bundle), and the OpenAPI document is generated from them
// (openapi.ts). Nothing here imports anything but zod and values.ts: ui/ type-checks this file
// without Node's types.
//
// Replies are strict objects: a field the server sends is a field declared here (the test world
// parses every reply with its schema, and an undeclared field fails the test).
import { z } from 'zod';
import { DEFAULT_LIMIT, DIG_TYPES, MAX_LIMIT, PROTOCOLS } from './values.ts';

export { DEFAULT_LIMIT, DIG_TYPES, MAX_LIMIT, PROTOCOLS };
export type { DigType, Protocol } from './values.ts';

// ---- request parts ----

/** A whole number in a query or a path, as its digits (RFC 3986 has no other number). */
const WHOLE = /^\d{1,9}$/;
const quote = (v: unknown) => JSON.stringify(String(v).slice(0, 40));

/** A whole number at most `max` (a larger one counts as `max`: a page size asks for "as many as allowed"). */
export function wholeNumber(max: number) {
  return z
    .string()
    .regex(WHOLE, { error: (iss) => `expected a whole number, got ${quote(iss.input)}` })
    .transform((v) => Math.min(Number(v), max))
    .meta({ description: `a whole number; above ${max} counts as ${max}` });
}

/** "1" turns an option on ("0" or nothing leaves it off). */
export const flag = z.enum(['0', '1'], { error: (iss) => `expected 1 or 0, got ${quote(iss.input)}` }).transform((v) => v === '1');

// ---- errors ----

export const ErrorReply = z.strictObject({ error: z.string().describe('what went wrong, in one sentence') }).meta({
  id: 'Error',
  description: 'every error of the API: a status code and this body',
});

// ---- mail ----

/** A DNS question: the name (no final dot) and the type. */
export const DnsQuestion = z.strictObject({ name: z.string(), type: z.string() }).meta({ id: 'DnsQuestion' });

/** Our server's verdict for one method of its Authentication-Results (RFC 8601). */
export const AuthVerdict = z
  .strictObject({
    method: z.string().describe('dkim, spf, dmarc, arc (RFC 8601 §2.7)'),
    result: z.string().describe('pass, fail, none, neutral, softfail, temperror, permerror, policy'),
    reason: z.string().optional().describe('why, when the server said (its comment after the result, or reason=)'),
    props: z.record(z.string(), z.string()).describe('the properties: header.d, header.s, smtp.mailfrom, header.from...'),
    dns: z
      .array(DnsQuestion)
      .describe(
        "the record the verdict was read from: DKIM <s>._domainkey.<d>, SPF the identity's domain, DMARC _dmarc.<From domain> (TXT); GET /dns/queries?name=&type=&smtpId= lists the queries for it",
      ),
  })
  .meta({ id: 'AuthVerdict' });

export const AuthResults = z
  .strictObject({
    authservId: z.string().describe("our mail server's authserv-id (lower case)"),
    verdicts: z.array(AuthVerdict),
    fail: z.boolean().describe('a method failed (DKIM neutral counts: RFC 6376 PERMFAIL)'),
  })
  .meta({ id: 'AuthResults', description: "our server's Authentication-Results header of a message (RFC 8601)" });

export const MessageSummary = z
  .strictObject({
    id: z.string().describe('stable id of the message: base64url of "<user>/<unique Maildir name>"'),
    user: z.string(),
    key: z.string().describe('the unique part of the Maildir file name (before ":")'),
    file: z.string().describe('the file in the Maildir: new/<name> or cur/<name>:2,<flags>'),
    from: z.string(),
    to: z.string(),
    cc: z.string(),
    subject: z.string(),
    date: z.number().nullable().describe('the Date header, ms since the epoch; null when absent or unparseable'),
    time: z.number().describe("delivery time, ms since the epoch (the Maildir name's seconds, else the file's mtime)"),
    size: z.int().describe('bytes'),
    attachments: z.boolean(),
    seen: z.boolean().describe('the Maildir flag S'),
    messageId: z.string(),
    smtpId: z.string().describe("the id of the SMTP session that delivered it (its 250 OK id=...), '' when not ours"),
    auth: z.string().describe("our server's verdicts in one line (dkim=pass spf=pass dmarc=pass), '' without"),
  })
  .meta({ id: 'MessageSummary', description: 'a message as the mailbox list shows it' });

export const Mailbox = z
  .strictObject({
    user: z.string(),
    email: z.string(),
    total: z.int(),
    unread: z.int(),
    size: z.int().describe('bytes of all its messages'),
  })
  .meta({ id: 'Mailbox' });

export const MailboxList = z.strictObject({ mailboxes: z.array(Mailbox) }).meta({ id: 'MailboxList' });

export const MessagesQuery = z.object({
  query: z
    .string()
    .default('')
    .describe(
      'from: to: subject: has:attachment is:read is:unread auth:fail auth:pass auth:none before:YYYY-MM-DD after:YYYY-MM-DD, -term, "phrase" and free text; every term must match',
    ),
  start: wholeNumber(1e9).default(0).describe('offset in the list (default 0)'),
  limit: wholeNumber(MAX_LIMIT).default(DEFAULT_LIMIT).describe(`page size (default ${DEFAULT_LIMIT}, at most ${MAX_LIMIT})`),
});

export const MessagePage = z
  .strictObject({
    user: z.string(),
    query: z.string(),
    total: z.int().describe('messages matching the query'),
    unread: z.int().describe('unread messages in the mailbox'),
    messagesTotal: z.int().describe('messages in the mailbox'),
    start: z.int(),
    count: z.int().describe('messages in this page'),
    tookMs: z.number().describe('time the search took'),
    messages: z.array(MessageSummary).describe('newest first'),
  })
  .meta({ id: 'MessagePage' });

export const Attachment = z
  .strictObject({
    index: z.int().describe('its number in /messages/{id}/attachments/{n}'),
    filename: z.string(),
    contentType: z.string(),
    size: z.int().describe('bytes, decoded'),
    contentId: z.string().optional().describe('Content-ID without <>, for cid: URLs (RFC 2392)'),
    inline: z.boolean(),
  })
  .meta({ id: 'Attachment' });

export const HeaderField = z.strictObject({ name: z.string(), value: z.string().describe('unfolded') }).meta({ id: 'HeaderField' });

export const ParsedMessage = z
  .strictObject({
    headers: z.array(HeaderField).describe('every header field, in order'),
    from: z.string(),
    to: z.string(),
    cc: z.string(),
    subject: z.string(),
    date: z.string().nullable().describe('the Date header as an ISO 8601 time'),
    text: z.string().nullable().describe('the text part (cut at 2 MB)'),
    hasHtml: z.boolean().describe('there is an HTML part: GET /messages/{id}/html serves it in a sandbox'),
    htmlBytes: z.int(),
    attachments: z.array(Attachment),
    error: z.string().optional().describe('the MIME structure could not be parsed: show the raw source'),
  })
  .meta({ id: 'ParsedMessage' });

export const Message = MessageSummary.extend({
  authResults: AuthResults.nullable().describe('null when our server wrote none'),
  parsed: ParsedMessage.nullable().describe('null when the message is too large or could not be read: see error'),
  error: z.string().optional(),
}).meta({ id: 'Message', description: "a message with its parsed parts and our server's verdicts" });

export const RawQuery = z.object({ download: flag.optional().describe('1: as a download (Content-Disposition: attachment)') });
export const HtmlQuery = z.object({ remote: flag.optional().describe('1: allow remote images') });

export const ReadRequest = z
  .object({ read: z.boolean().default(true).describe('true: read (flag S set), false: unread') })
  .meta({ id: 'ReadRequest', description: 'an empty body marks read' });

export const Folder = z
  .strictObject({
    name: z.string().describe('INBOX, or the Maildir++ folder name ("." between levels), as IMAP names it'),
    specialUse: z.string().nullable().describe('RFC 6154 attribute (\\Sent, \\Drafts, \\Trash, \\Junk) or null'),
    total: z.int(),
    unread: z.int(),
  })
  .meta({ id: 'Folder' });

export const FolderList = z.strictObject({ user: z.string(), folders: z.array(Folder) }).meta({ id: 'FolderList' });

export const MoveRequest = z.strictObject({ folder: z.string().min(1).describe('the folder to move the message to') }).meta({ id: 'MoveRequest' });

export const Moved = z
  .strictObject({
    moved: z.string().describe('the id of the message moved (it leaves the inbox)'),
    folder: z.string(),
    uid: z.int().describe('its IMAP UID in that folder (dovecot-uidlist)'),
  })
  .meta({ id: 'Moved' });

export const Deleted = z.strictObject({ deleted: z.string().describe('the id of the message deleted') }).meta({ id: 'Deleted' });

// ---- sessions ----

export const Line = z
  .strictObject({
    t: z.number().describe('ms since the epoch'),
    dir: z.enum(['c', 's', 'tls', 'note']).describe('c: the client, s: the server, tls: the handshake, note: added by the console'),
    text: z.string(),
    secret: z.boolean().optional().describe('a password or AUTH data (masked unless revealed)'),
  })
  .meta({ id: 'Line', description: "one line of a session's dialogue" });

export const SessionTls = z
  .strictObject({ version: z.string(), cipher: z.string(), peer: z.string().optional().describe("the client certificate's subject") })
  .nullable()
  .meta({ id: 'SessionTls' });

export const SessionSummary = z
  .strictObject({
    id: z.string(),
    protocol: z.string().describe(PROTOCOLS.join(', ')),
    client: z.string().describe('address:port'),
    start: z.number(),
    end: z.number().nullable().describe('null while open'),
    lines: z.int().describe('lines of the dialogue (with those not kept)'),
    summary: z.string().describe('the first client line (DNS: the question and the rcode)'),
    tls: SessionTls,
    smtpIds: z.array(z.string()).describe('SMTP: the ids of the messages accepted'),
    user: z.string().optional().describe('who logged in'),
    rcode: z.string().optional().describe('DNS: the answer status'),
  })
  .meta({ id: 'SessionSummary', description: 'a session in the timeline' });

export const SessionsQuery = z.object({
  protocol: z
    .string()
    .transform((v) => v.split(',').filter(Boolean))
    .pipe(z.array(z.enum(PROTOCOLS, { error: (iss) => `expected protocols among ${PROTOCOLS.join(', ')}, got ${quote(iss.input)}` })))
    .optional()
    .describe(`comma-separated: ${PROTOCOLS.join(', ')}`),
  client: z.string().optional().describe('client address prefix'),
  smtpId: z.string().optional().describe('the session that delivered the message with this smtpId'),
  before: wholeNumber(Number.MAX_SAFE_INTEGER).optional().describe('sessions that started before this time (ms since the epoch)'),
  limit: wholeNumber(2000).default(200).describe('at most this many (default 200, at most 2000)'),
});

export const RevealQuery = z.object({ reveal: flag.optional().describe('1: show passwords and AUTH data') });

export const SessionList = z
  .strictObject({
    lost: z.int().describe('events the journal dropped under load'),
    sessions: z.array(SessionSummary).describe('newest first'),
  })
  .meta({ id: 'SessionList' });

export const Session = z
  .strictObject({
    id: z.string(),
    protocol: z.string(),
    client: z.string(),
    local: z.string().describe("the server's address:port"),
    start: z.number(),
    end: z.number().nullable(),
    lines: z.array(Line),
    dropped: z.int().describe('lines not kept (a session keeps 400)'),
    tls: SessionTls,
    smtpIds: z.array(z.string()),
    user: z.string().optional(),
    dns: z
      .strictObject({ tr: z.string().describe('udp or tcp'), q: z.string().optional(), r: z.string().optional() })
      .optional()
      .describe('DNS: the query and the response as sent, base64'),
    dnsText: z.array(z.string()).optional().describe("DNS: the exchange in dig's sections"),
    messages: z.array(z.strictObject({ id: z.string(), user: z.string(), subject: z.string() })).describe('the messages this SMTP session delivered'),
  })
  .meta({ id: 'Session', description: 'one session as its dialogue' });

// ---- the live stream ----

export const HelloEvent = z.strictObject({ domain: z.string() }).meta({ id: 'HelloEvent', description: 'the first event of a stream' });
export const PingEvent = z.strictObject({ lost: z.int().describe('events this stream lost (a slow reader)') }).meta({ id: 'PingEvent' });
export const MessageNewEvent = z
  .strictObject({ type: z.literal('message.new'), user: z.string(), message: MessageSummary })
  .meta({ id: 'MessageNewEvent', description: 'a message arrived' });
export const MessageUpdateEvent = z
  .strictObject({ type: z.literal('message.update'), user: z.string(), message: MessageSummary })
  .meta({ id: 'MessageUpdateEvent', description: 'its flags changed' });
export const MessageDeleteEvent = z
  .strictObject({ type: z.literal('message.delete'), user: z.string(), id: z.string() })
  .meta({ id: 'MessageDeleteEvent', description: 'it left the Maildir (deleted, or taken by POP3)' });
/** A change of a mailbox, as the index emits it. */
export const IndexChange = z.discriminatedUnion('type', [MessageNewEvent, MessageUpdateEvent, MessageDeleteEvent]);

/** The events of GET /events: each name with the JSON of its `data:` line. */
export const LIVE_EVENTS = {
  hello: HelloEvent,
  ping: PingEvent,
  'message.new': MessageNewEvent,
  'message.update': MessageUpdateEvent,
  'message.delete': MessageDeleteEvent,
  session: SessionSummary,
} as const;

// ---- DNS ----

export const ZoneRecord = z
  .strictObject({
    zone: z.string().describe('the origin of its zone'),
    name: z.string().describe('the owner with its final dot'),
    ttl: z.int(),
    type: z.string(),
    data: z.string().describe('as dig prints it'),
  })
  .meta({ id: 'ZoneRecord' });

export const ZoneList = z.strictObject({ records: z.array(ZoneRecord) }).meta({ id: 'ZoneList' });

const dnsName = z
  .string({ error: 'expected a domain name' })
  .trim()
  .regex(/^[A-Za-z0-9_.-]{1,253}$/, { error: 'expected a domain name (letters, digits, "_", "-" and ".", at most 253)' });

export const DnsQueriesQuery = z.object({
  limit: wholeNumber(2000).default(100).describe('at most this many (default 100, at most 2000)'),
  name: dnsName.optional().describe('only queries for this name (with type)'),
  type: z
    .string()
    .regex(/^[A-Za-z0-9]{1,10}$/, { error: 'expected a record type (A, TXT, MX...)' })
    .transform((v) => v.toUpperCase())
    .optional()
    .describe('only queries of this type (with name)'),
  smtpId: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, { error: 'expected the id of a message (250 OK id=...)' })
    .optional()
    .describe('only queries made before our SMTP server accepted this message: the ones its verdicts could be read from'),
});
export const DnsQueries = z.strictObject({ queries: z.array(SessionSummary).describe('newest first') }).meta({ id: 'DnsQueries' });

export const DigQuery = z.object({
  name: dnsName.describe('the name to ask'),
  type: z
    .string()
    .transform((v) => v.toUpperCase())
    .pipe(z.enum(DIG_TYPES, { error: (iss) => `expected one of ${DIG_TYPES.join(', ')}, got ${JSON.stringify(String(iss.input).slice(0, 20))}` }))
    .default('A')
    .describe(`${DIG_TYPES.join(', ')} (default A)`),
});

export const DigReply = z
  .strictObject({ server: z.string().describe('the DNS server asked, address:port'), rcode: z.string(), text: z.array(z.string()).describe("dig's sections") })
  .meta({ id: 'DigReply' });

// ---- certificates ----

export const Certificate = z
  .strictObject({
    name: z.string(),
    kind: z.enum(['ca', 'server', 'client', 'ipsec', 'dkim']),
    file: z.string().describe('its file (relative to the checkout when inside it)'),
    status: z.enum(['valid', 'revoked', 'expired', 'missing', 'not-yet-valid']),
    subject: z.string().optional(),
    sans: z.array(z.string()).optional().describe('DNS:..., email:..., IP:...'),
    serial: z.string().optional(),
    issuer: z.string().optional(),
    notBefore: z.string().optional().describe('ISO 8601'),
    notAfter: z.string().optional().describe('ISO 8601'),
    p12: z.string().optional().describe('its PKCS#12 bundle'),
    download: z.string().optional().describe('where to download the PKCS#12 bundle'),
  })
  .meta({ id: 'Certificate' });

export const CertificateList = z
  .strictObject({
    certificates: z.array(Certificate),
    p12Password: z.string().describe('the password of every PKCS#12 bundle'),
    caDownload: z.string(),
  })
  .meta({ id: 'CertificateList' });

export const CertificateName = z.object({ name: z.string().describe('certificate name (a user, server, an IPsec host)') });
export const Revoked = z.strictObject({ revoked: z.string() }).meta({ id: 'Revoked' });
export const Renewed = z.strictObject({ renewed: z.array(z.string()).describe('the certificates issued again') }).meta({ id: 'Renewed' });

// ---- compose ----

const addresses = z.union([z.string(), z.array(z.string())], { error: 'expected addresses separated by commas' });

export const SendRequest = z
  .object({
    from: z.string({ error: 'expected a user of the domain (name or address)' }).describe('a user of the domain: login name or address'),
    to: addresses.describe('addresses separated by commas, or a list'),
    cc: addresses.optional(),
    subject: z.string().default(''),
    text: z.string().default(''),
    inReplyTo: z.string().optional().describe('the Message-ID replied to, with its <>'),
  })
  .meta({ id: 'SendRequest' });

export const SendReply = z
  .strictObject({
    accepted: z.array(z.string()),
    rejected: z.array(z.string()),
    response: z.string().describe("the submission server's last reply (250 OK id=...)"),
    messageId: z.string(),
  })
  .meta({ id: 'SendReply' });

// ---- the domain ----

export const Info = z
  .strictObject({
    domain: z.string(),
    id: z.string().describe("the lab's ID"),
    profile: z.string().describe('dev or lab'),
    users: z.array(z.strictObject({ name: z.string(), email: z.string() })),
    services: z.record(z.string(), z.string()).describe('each service with its address:port'),
    journal: z.strictObject({ protocols: z.array(z.string()).describe('the protocols whose sessions are recorded'), lost: z.int() }),
  })
  .meta({ id: 'Info' });

export const OpenApiDocument = z.record(z.string(), z.unknown()).meta({ id: 'OpenApiDocument', description: 'this document (OpenAPI 3.1)' });

// ---- path parameters ----

export const UserParam = z.object({ user: z.string().describe('login name') });
export const MessageParam = z.object({ id: z.string().describe('message id (from a list)') });
export const AttachmentParam = MessageParam.extend({ n: wholeNumber(100_000).describe('the attachment number (its index)') });
export const SessionParam = z.object({ id: z.string().describe('session id (from the timeline)') });

// ---- the types the server and the front end share ----

export type ErrorReply = z.infer<typeof ErrorReply>;
export type AuthVerdict = z.infer<typeof AuthVerdict>;
export type DnsQuestion = z.infer<typeof DnsQuestion>;
export type AuthResults = z.infer<typeof AuthResults>;
export type MessageSummary = z.infer<typeof MessageSummary>;
export type Mailbox = z.infer<typeof Mailbox>;
export type MailboxList = z.infer<typeof MailboxList>;
export type MessagePage = z.infer<typeof MessagePage>;
export type Attachment = z.infer<typeof Attachment>;
export type ParsedMessage = z.infer<typeof ParsedMessage>;
export type Message = z.infer<typeof Message>;
export type Deleted = z.infer<typeof Deleted>;
export type Folder = z.infer<typeof Folder>;
export type FolderList = z.infer<typeof FolderList>;
export type Moved = z.infer<typeof Moved>;
export type Line = z.infer<typeof Line>;
export type SessionTls = z.infer<typeof SessionTls>;
export type SessionSummary = z.infer<typeof SessionSummary>;
export type SessionList = z.infer<typeof SessionList>;
export type Session = z.infer<typeof Session>;
export type IndexChange = z.infer<typeof IndexChange>;
export type LiveEvents = { [K in keyof typeof LIVE_EVENTS]: z.infer<(typeof LIVE_EVENTS)[K]> };
export type ZoneRecord = z.infer<typeof ZoneRecord>;
export type ZoneList = z.infer<typeof ZoneList>;
export type DnsQueries = z.infer<typeof DnsQueries>;
export type DigReply = z.infer<typeof DigReply>;
export type Certificate = z.infer<typeof Certificate>;
export type CertificateList = z.infer<typeof CertificateList>;
export type Revoked = z.infer<typeof Revoked>;
export type Renewed = z.infer<typeof Renewed>;
export type SendRequest = z.input<typeof SendRequest>;
export type SendReply = z.infer<typeof SendReply>;
export type Info = z.infer<typeof Info>;
