// The OpenAPI 3.1 description of the console's API, served at /api/v1/openapi.json so that
// other projects' tests can call it (as Mailpit's users do with Mailpit's).
import type { Scenario } from '@sstt/scenario';

const json = (schema: object) => ({ content: { 'application/json': { schema } } });
const ok = (description: string, schema: object = { type: 'object' }) => ({ 200: { description, ...json(schema) } });
const err = { description: 'an error', ...json({ $ref: '#/components/schemas/Error' }) };
const param = (name: string, where: 'path' | 'query', description: string, schema: object = { type: 'string' }) => ({
  name,
  in: where,
  required: where === 'path',
  description,
  schema,
});
const id = param('id', 'path', 'message id (from a list)');

export function openApiDocument(s: Scenario): object {
  return {
    openapi: '3.1.0',
    info: {
      title: `sstt console of ${s.domain}`,
      version: '1',
      description: 'Mailboxes, sessions, DNS and certificates of the domain. Errors are JSON {"error": "..."}.',
    },
    servers: [{ url: '/api/v1' }],
    components: {
      schemas: {
        Error: { type: 'object', required: ['error'], properties: { error: { type: 'string' } } },
        MessageSummary: {
          type: 'object',
          properties: {
            id: { type: 'string' },
            user: { type: 'string' },
            key: { type: 'string', description: 'unique Maildir name' },
            file: { type: 'string', description: 'new/<name> or cur/<name>:2,<flags>' },
            from: { type: 'string' },
            to: { type: 'string' },
            cc: { type: 'string' },
            subject: { type: 'string' },
            date: { type: ['number', 'null'], description: 'Date header, ms since the epoch' },
            time: { type: 'number', description: 'delivery time, ms since the epoch' },
            size: { type: 'integer' },
            attachments: { type: 'boolean' },
            seen: { type: 'boolean' },
            messageId: { type: 'string' },
            smtpId: { type: 'string', description: 'id of the SMTP session that delivered it (250 OK id=...)' },
            auth: { type: 'string', description: "our server's Authentication-Results in one line (dkim=pass spf=pass dmarc=pass), '' without" },
          },
        },
      },
    },
    paths: {
      '/mailboxes': { get: { summary: 'every user mailbox with its counts', responses: ok('mailboxes') } },
      '/mailboxes/{user}/messages': {
        get: {
          summary: 'a page of messages, newest first, optionally searched',
          parameters: [
            param('user', 'path', 'login name'),
            param(
              'query',
              'query',
              'from: to: subject: has:attachment is:read is:unread auth:fail auth:pass auth:none before:YYYY-MM-DD after:YYYY-MM-DD -term "phrase" and free text',
            ),
            param('start', 'query', 'offset', { type: 'integer', minimum: 0 }),
            param('limit', 'query', 'page size (max 500)', { type: 'integer', minimum: 0, maximum: 500 }),
          ],
          responses: {
            ...ok('the page', {
              type: 'object',
              properties: { total: { type: 'integer' }, messages: { type: 'array', items: { $ref: '#/components/schemas/MessageSummary' } } },
            }),
            400: err,
            404: err,
          },
        },
      },
      '/messages/{id}': {
        get: {
          summary:
            "a message with its parsed parts (headers, text, attachments) and our server's verdicts (authResults: each method, result, reason, properties)",
          parameters: [id],
          responses: { ...ok('the message'), 404: err },
        },
        delete: { summary: 'deletes the message file from the Maildir', parameters: [id], responses: { ...ok('deleted'), 404: err } },
      },
      '/messages/{id}/raw': { get: { summary: 'the message source as stored', parameters: [id], responses: { 200: { description: 'text/plain' }, 404: err } } },
      '/messages/{id}/html': {
        get: {
          summary: 'the HTML part as a sandboxed document (strict CSP, no scripts, remote images only with remote=1)',
          parameters: [id, param('remote', 'query', '1 to allow remote images')],
          responses: { 200: { description: 'text/html' }, 404: err },
        },
      },
      '/messages/{id}/attachments/{n}': {
        get: {
          summary: 'an attachment, as a download',
          parameters: [id, param('n', 'path', 'index')],
          responses: { 200: { description: 'the bytes' }, 404: err },
        },
      },
      '/messages/{id}/read': {
        put: { summary: 'marks read ({"read": true}) or unread (Maildir flag S)', parameters: [id], responses: { ...ok('the summary'), 404: err } },
      },
      '/sessions': {
        get: {
          summary: 'the sessions timeline, newest first',
          parameters: [
            param('protocol', 'query', 'comma-separated: smtp, submission, pop3, pop3s, http, https, dns'),
            param('client', 'query', 'client address prefix'),
            param('smtpId', 'query', 'the session that delivered this message id'),
            param('limit', 'query', 'at most this many', { type: 'integer' }),
          ],
          responses: ok('sessions'),
        },
      },
      '/sessions/{id}': {
        get: {
          summary: 'one session as its dialogue (secrets masked unless reveal=1)',
          parameters: [param('id', 'path', 'session id'), param('reveal', 'query', '1 shows passwords and AUTH data')],
          responses: { ...ok('the session'), 404: err },
        },
      },
      '/events': {
        get: {
          summary: 'Server-Sent Events: message.new, message.update, message.delete, session',
          responses: { 200: { description: 'text/event-stream' }, 429: { ...err, description: 'too many event streams from this address (Retry-After)' } },
        },
      },
      '/dns/zone': { get: { summary: 'the records of the zones', responses: ok('records') } },
      '/dns/queries': { get: { summary: 'recent DNS exchanges with their rcodes', responses: ok('queries') } },
      '/dns/dig': {
        get: {
          summary: "asks the domain's DNS; answers in dig's sections",
          parameters: [param('name', 'query', 'domain name'), param('type', 'query', 'A, AAAA, NS, MX, SOA, CNAME, PTR, SRV, TXT or ANY')],
          responses: { ...ok('answer'), 400: err, 502: err },
        },
      },
      '/certificates': { get: { summary: 'the CA and every certificate, with the PKCS#12 password', responses: ok('certificates') } },
      '/certificates/ca.crt': { get: { summary: 'the CA certificate', responses: { 200: { description: 'PEM' }, 404: err } } },
      '/certificates/{name}/p12': {
        get: { summary: 'a PKCS#12 bundle', parameters: [param('name', 'path', 'certificate name')], responses: { 200: { description: 'PKCS#12' }, 404: err } },
      },
      '/certificates/{name}/revoke': {
        post: { summary: 'revokes (adds to the CRL)', parameters: [param('name', 'path', 'certificate name')], responses: { ...ok('revoked'), 404: err } },
      },
      '/certificates/{name}/renew': {
        post: { summary: 'issues it again', parameters: [param('name', 'path', 'certificate name')], responses: { ...ok('renewed'), 404: err } },
      },
      '/send': {
        post: {
          summary: "sends as a user of the domain through the domain's submission service",
          requestBody: json({
            type: 'object',
            required: ['from', 'to'],
            properties: {
              from: { type: 'string' },
              to: { type: 'string' },
              cc: { type: 'string' },
              subject: { type: 'string' },
              text: { type: 'string' },
              inReplyTo: { type: 'string' },
            },
          }),
          responses: { ...ok('accepted'), 400: err, 422: err, 502: err },
        },
      },
    },
  };
}
