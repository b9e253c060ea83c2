// Every call of the console's API, declared once: method, path (OpenAPI form, under /api/v1),
// what it does, the schemas of its path parameters, query and body, what it answers and which
// errors it can give. The server registers exactly these (resources/*.ts through serve.ts), the
// OpenAPI document is written from them (openapi.ts), and a test holds the two together.
import type { z } from 'zod';
import * as S from './schemas.ts';

/** A reply that is not JSON: a file, a document, the event stream. */
export interface Media {
  media: string;
  description: string;
  /** text/event-stream: each event's name with the schema of its data. */
  events?: Record<string, z.ZodType>;
}

/** The error statuses an endpoint can answer, each with when (400 is added for any validated input). */
export type ErrorStatus = 400 | 404 | 409 | 422 | 429 | 502;

export interface Endpoint {
  method: 'get' | 'put' | 'post' | 'delete';
  /** OpenAPI form: /messages/{id}. */
  path: string;
  summary: string;
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** A schema of the JSON answered with 200, or a reply of another media type. */
  reply: z.ZodType | Media;
  errors?: Partial<Record<ErrorStatus, string>>;
}

const endpoint = <const E extends Endpoint>(e: E): E => e;

const NO_MESSAGE = 'no such message (deleted, or taken by POP3)';

export const endpoints = {
  // ---- the API itself and the domain ----
  openapi: endpoint({ method: 'get', path: '/openapi.json', summary: 'this document', reply: S.OpenApiDocument }),
  info: endpoint({ method: 'get', path: '/info', summary: 'the domain, its users and services, what the journal records', reply: S.Info }),

  // ---- mailboxes and messages ----
  mailboxes: endpoint({ method: 'get', path: '/mailboxes', summary: 'every user mailbox with its counts', reply: S.MailboxList }),
  messages: endpoint({
    method: 'get',
    path: '/mailboxes/{user}/messages',
    summary: 'a page of messages, newest first, optionally searched',
    params: S.UserParam,
    query: S.MessagesQuery,
    reply: S.MessagePage,
    errors: { 400: 'a bad query (the search language says what), start or limit', 404: 'no such user' },
  }),
  message: endpoint({
    method: 'get',
    path: '/messages/{id}',
    summary: "a message with its parsed parts (headers, text, attachments) and our server's verdicts (authResults)",
    params: S.MessageParam,
    reply: S.Message,
    errors: { 404: NO_MESSAGE },
  }),
  raw: endpoint({
    method: 'get',
    path: '/messages/{id}/raw',
    summary: 'the message source as stored',
    params: S.MessageParam,
    query: S.RawQuery,
    reply: { media: 'text/plain; charset=utf-8', description: 'the message file (with download=1, as an attachment named <key>.eml)' },
    errors: { 404: NO_MESSAGE },
  }),
  html: endpoint({
    method: 'get',
    path: '/messages/{id}/html',
    summary: 'the HTML part as a sandboxed document (strict CSP, no scripts, remote images only with remote=1)',
    params: S.MessageParam,
    query: S.HtmlQuery,
    reply: { media: 'text/html; charset=UTF-8', description: 'the HTML part in a document of its own' },
    errors: { 404: `${NO_MESSAGE}, or it has no HTML part` },
  }),
  attachment: endpoint({
    method: 'get',
    path: '/messages/{id}/attachments/{n}',
    summary: 'an attachment, always as a download',
    params: S.AttachmentParam,
    reply: { media: 'application/octet-stream', description: 'its bytes (Content-Disposition: attachment)' },
    errors: { 400: 'n is not a whole number', 404: `${NO_MESSAGE}, or no such attachment` },
  }),
  folders: endpoint({
    method: 'get',
    path: '/mailboxes/{user}/folders',
    summary: "the user's folders (INBOX and the Maildir++ folders IMAP shows) with their counts",
    params: S.UserParam,
    reply: S.FolderList,
    errors: { 404: 'no such user' },
  }),
  move: endpoint({
    method: 'post',
    path: '/messages/{id}/move',
    summary: 'moves a message of the inbox to another folder, as IMAP MOVE does (flags kept, a new UID there)',
    params: S.MessageParam,
    body: S.MoveRequest,
    reply: S.Moved,
    errors: { 404: NO_MESSAGE, 422: 'no such folder' },
  }),
  deleteMessage: endpoint({
    method: 'delete',
    path: '/messages/{id}',
    summary: 'deletes the message file from the Maildir',
    params: S.MessageParam,
    reply: S.Deleted,
    errors: { 404: NO_MESSAGE },
  }),
  read: endpoint({
    method: 'put',
    path: '/messages/{id}/read',
    summary: 'marks read ({"read": true}, or an empty body) or unread ({"read": false}): the Maildir flag S',
    params: S.MessageParam,
    body: S.ReadRequest.optional(),
    reply: S.MessageSummary,
    errors: { 404: NO_MESSAGE, 409: 'the message changed meanwhile (taken by POP3?)' },
  }),

  // ---- sessions ----
  sessions: endpoint({
    method: 'get',
    path: '/sessions',
    summary: 'the sessions timeline, newest first',
    query: S.SessionsQuery,
    reply: S.SessionList,
  }),
  session: endpoint({
    method: 'get',
    path: '/sessions/{id}',
    summary: 'one session as its dialogue (secrets masked unless reveal=1), with the messages it delivered',
    params: S.SessionParam,
    query: S.RevealQuery,
    reply: S.Session,
    errors: { 404: 'no such session (older sessions leave the timeline)' },
  }),
  events: endpoint({
    method: 'get',
    path: '/events',
    summary: 'Server-Sent Events: every change of a mailbox and every session, as they happen',
    reply: {
      media: 'text/event-stream',
      description: 'events named hello, ping, message.new, message.update, message.delete and session, each with its JSON in the data line',
      events: S.LIVE_EVENTS,
    },
    errors: { 429: 'too many event streams from this address (Retry-After)' },
  }),

  // ---- DNS ----
  zone: endpoint({ method: 'get', path: '/dns/zone', summary: 'the records of the zones (the ones the DNS serves)', reply: S.ZoneList }),
  queries: endpoint({
    method: 'get',
    path: '/dns/queries',
    summary: "recent DNS exchanges with their rcodes; for one question, and before a message was accepted (a verdict's queries)",
    query: S.DnsQueriesQuery,
    reply: S.DnsQueries,
    errors: { 400: 'a bad name, type or limit, or a name without a type', 404: 'no SMTP session of the journal accepted that message' },
  }),
  dig: endpoint({
    method: 'get',
    path: '/dns/dig',
    summary: "asks the domain's DNS; answers in dig's sections",
    query: S.DigQuery,
    reply: S.DigReply,
    errors: { 502: 'the DNS did not answer' },
  }),

  // ---- certificates ----
  certificates: endpoint({
    method: 'get',
    path: '/certificates',
    summary: 'the CA and every certificate, with the PKCS#12 password',
    reply: S.CertificateList,
  }),
  caCert: endpoint({
    method: 'get',
    path: '/certificates/ca.crt',
    summary: 'the CA certificate',
    reply: { media: 'application/x-x509-ca-cert', description: 'PEM' },
    errors: { 404: 'no CA yet' },
  }),
  p12: endpoint({
    method: 'get',
    path: '/certificates/{name}/p12',
    summary: 'a PKCS#12 bundle (key and certificate)',
    params: S.CertificateName,
    reply: { media: 'application/x-pkcs12', description: 'PKCS#12, encrypted with the p12Password of GET /certificates' },
    errors: { 404: 'no PKCS#12 file for this certificate' },
  }),
  revoke: endpoint({
    method: 'post',
    path: '/certificates/{name}/revoke',
    summary: 'revokes it (adds it to the CRL)',
    params: S.CertificateName,
    reply: S.Revoked,
    errors: { 404: 'no such certificate, or no CA yet' },
  }),
  renew: endpoint({
    method: 'post',
    path: '/certificates/{name}/renew',
    summary: 'issues it again',
    params: S.CertificateName,
    reply: S.Renewed,
    errors: { 404: 'no such certificate, or no CA yet' },
  }),

  // ---- compose ----
  send: endpoint({
    method: 'post',
    path: '/send',
    summary: "sends as a user of the domain through the domain's submission service",
    body: S.SendRequest,
    reply: S.SendReply,
    errors: { 422: 'not a user of the domain, no recipient, or not an address', 502: 'the submission service refused or did not answer' },
  }),
} as const;

export type Endpoints = typeof endpoints;
