// The console's API is its documentation: the routes the server has under /api/v1 and the paths
// of the OpenAPI document it serves are the same set (hono's app.routes against the document, in
// both directions), every reply of the document has a real schema, and a request that does not
// match its schema gets a 400 whose error names the field. The declarations also hold the server
// to them: with checkReplies, a reply they do not describe fails the call.
import path from 'node:path';
import { EVENT_PROTOCOLS, loadScenario } from '@sstt/scenario';
import { tempDir } from '@sstt/testkit';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { endpoints } from '../src/api/endpoints.ts';
import { openApiDocument } from '../src/api/openapi.ts';
import { PROTOCOLS } from '../src/api/values.ts';
import { endpointServer } from '../src/resources/serve.ts';
import { type ConsoleHandle, createConsoleServer } from '../src/server.ts';

type Doc = { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, unknown> } };
type Operation = {
  operationId: string;
  parameters?: Array<{ name: string; in: string }>;
  requestBody?: { content: Record<string, { schema: unknown }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: Record<string, unknown> }> }>;
};

const t = tempDir('sstt-console-openapi-');
const s = loadScenario({ env: { SSTT_CERTS_DIR: path.join(t.dir, 'certs'), SSTT_DATA_DIR: path.join(t.dir, 'var') }, flags: {}, configFile: undefined });
let c: ConsoleHandle;
let base: string;
beforeAll(async () => {
  c = createConsoleServer({ scenario: s, host: '127.0.0.1', port: 0, cacheDir: path.join(t.dir, 'cache') });
  const [a] = await c.listen();
  base = `http://127.0.0.1:${a!.port}`;
});
afterAll(async () => {
  await c?.close();
  t.remove();
});

const API = '/api/v1';
/** The routes that are not the API: the health check, the front end, and the middleware on every path. */
const NOT_API = ['ALL /*', 'GET /livez', 'GET /', 'GET /assets/*'];

/** "METHOD /path" (OpenAPI form) of every route under /api/v1, and the others as they are. */
function routesOf(app: Hono): { api: string[]; other: string[] } {
  const all = [...new Set(app.routes.map((r) => `${r.method} ${r.path}`))];
  return {
    api: all
      .filter((r) => r.split(' ')[1]!.startsWith(`${API}/`))
      .map((r) => r.replace(` ${API}/`, ' /').replace(/:(\w+)/g, '{$1}'))
      .sort(),
    other: all.filter((r) => !r.split(' ')[1]!.startsWith(`${API}/`)),
  };
}

const operationsOf = (doc: Doc) =>
  Object.entries(doc.paths)
    .flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`))
    .sort();

/** What one side has that the other lacks. */
function differences(app: Hono, doc: Doc): { notDocumented: string[]; notServed: string[] } {
  const served = routesOf(app).api;
  const documented = operationsOf(doc);
  return { notDocumented: served.filter((r) => !documented.includes(r)), notServed: documented.filter((r) => !served.includes(r)) };
}

describe('the routes and the document', () => {
  it('every route under /api/v1 is in the document and every path of the document is a route', async () => {
    const doc = (await (await fetch(`${base}${API}/openapi.json`)).json()) as Doc;
    expect(differences(c.app, doc)).toEqual({ notDocumented: [], notServed: [] });
    expect(routesOf(c.app).api).toHaveLength(Object.keys(endpoints).length);
    // Anything else the server answers is one of these, on purpose.
    expect(routesOf(c.app).other.sort()).toEqual([...NOT_API].sort());
  });

  it('the comparison fails on a route the document lacks, and on a path no route serves', () => {
    const doc = openApiDocument({ domain: s.domain, basicAuth: false }) as Doc;
    const extra = new Hono();
    extra.get('/undeclared/:thing', (ctx) => ctx.json({}));
    const withExtra = new Hono().route('/', c.app).route(API, extra);
    expect(differences(withExtra, doc)).toEqual({ notDocumented: ['GET /undeclared/{thing}'], notServed: [] });
    const docWithMore = { ...doc, paths: { ...doc.paths, '/ghost': { post: doc.paths['/send']!.post! } } };
    expect(differences(c.app, docWithMore)).toEqual({ notDocumented: [], notServed: ['POST /ghost'] });
  });

  it('every reply has its schema (no bare object), every $ref resolves, every path parameter is declared', () => {
    const doc = openApiDocument({ domain: s.domain, basicAuth: false }) as Doc;
    const text = JSON.stringify(doc);
    for (const ref of text.matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)) expect(doc.components.schemas[ref[1]!], ref[1]).toBeDefined();
    const bare = (schema: unknown) => JSON.stringify(schema) === '{"type":"object"}';
    const ids = new Set<string>();
    for (const [p, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const where = `${method.toUpperCase()} ${p}`;
        expect(ids.has(op.operationId), where).toBe(false);
        ids.add(op.operationId);
        const ok = op.responses['200'];
        expect(ok, where).toBeDefined();
        const [media, content] = Object.entries(ok!.content ?? {})[0] ?? [];
        const schema = content?.schema;
        expect(media, `${where}: a media type`).toBeDefined();
        expect(bare(schema), `${where}: a bare object`).toBe(false);
        if (media === 'application/json') expect(schema?.$ref, `${where}: a named reply`).toMatch(/^#\/components\/schemas\/\w+$/);
        for (const [status, r] of Object.entries(op.responses))
          if (status !== '200') expect(r.content?.['application/json']?.schema, `${where} ${status}`).toEqual({ $ref: '#/components/schemas/Error' });
        const inPath = [...p.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
        expect(
          (op.parameters ?? []).filter((x) => x.in === 'path').map((x) => x.name),
          where,
        ).toEqual(inPath);
      }
    }
    for (const [id, schema] of Object.entries(doc.components.schemas)) expect(bare(schema), id).toBe(false);
    // The message as the pages read it: its summary fields, the verdicts, the parsed parts.
    expect(doc.components.schemas.Message).toMatchObject({
      type: 'object',
      properties: {
        id: { type: 'string' },
        date: { type: ['number', 'null'] },
        authResults: { anyOf: [{ $ref: '#/components/schemas/AuthResults' }, { type: 'null' }] },
        parsed: { anyOf: [{ $ref: '#/components/schemas/ParsedMessage' }, { type: 'null' }] },
      },
      additionalProperties: false,
    });
    // Requests as a client writes them: the page size is digits in the query, the body's fields typed.
    const messages = doc.paths['/mailboxes/{user}/messages']!.get!;
    expect(messages.parameters).toContainEqual({
      name: 'limit',
      in: 'query',
      required: false,
      description: 'page size (default 50, at most 500)',
      schema: { type: 'string', pattern: '^\\d{1,9}$' },
    });
    expect(doc.components.schemas.SendRequest).toMatchObject({ type: 'object', required: ['from', 'to'] });
  });

  it('a console with a password says so in its document (HTTP Basic)', () => {
    const doc = openApiDocument({ domain: s.domain, basicAuth: true }) as Doc & { security: unknown; components: { securitySchemes: unknown } };
    expect(doc.security).toEqual([{ basic: [] }]);
    expect(doc.components.securitySchemes).toEqual({ basic: { type: 'http', scheme: 'basic' } });
    expect(doc.paths['/mailboxes']!.get!.responses['401']).toEqual({ description: 'the console has a password (HTTP Basic)' });
  });

  it('the protocols the API declares are the journal’s', () => {
    expect([...PROTOCOLS]).toEqual([...EVENT_PROTOCOLS]);
  });
});

describe('requests are checked against their schemas', () => {
  const call = async (p: string, init?: RequestInit) => {
    const res = await fetch(`${base}${API}${p}`, init);
    return { status: res.status, body: (await res.json()) as unknown };
  };
  const user = s.users[0]!.name;

  it('a query that does not match gets a 400 naming the field', async () => {
    expect(await call(`/mailboxes/${user}/messages?limit=-1`)).toEqual({ status: 400, body: { error: 'limit: expected a whole number, got "-1"' } });
    expect(await call(`/mailboxes/${user}/messages?start=ten`)).toEqual({ status: 400, body: { error: 'start: expected a whole number, got "ten"' } });
    expect(await call('/sessions?protocol=smtp,smpt')).toEqual({
      status: 400,
      body: { error: 'protocol.1: expected protocols among smtp, submission, pop3, pop3s, imap, imaps, http, https, dns, got "smpt"' },
    });
    expect(await call('/sessions/x?reveal=yes')).toEqual({ status: 400, body: { error: 'reveal: expected 1 or 0, got "yes"' } });
    expect(await call('/dns/dig?type=MX')).toEqual({ status: 400, body: { error: 'name: expected a domain name' } });
    expect(await call(`/mailboxes/${user}/messages?query=before:yesterday`)).toEqual({
      status: 400,
      body: { error: 'before: expects a date as YYYY-MM-DD, got "yesterday"' },
    });
    expect(await call('/dns/dig?name=x&type=HINFO')).toEqual({
      status: 400,
      body: { error: 'type: expected one of A, AAAA, NS, MX, SOA, CNAME, PTR, SRV, TXT, ANY, got "HINFO"' },
    });
    expect(await call('/dns/queries?limit=1.5')).toEqual({ status: 400, body: { error: 'limit: expected a whole number, got "1.5"' } });
  });

  it('a path parameter that does not match gets a 400 before anything is looked up', async () => {
    expect(await call('/messages/nothere/attachments/first')).toEqual({ status: 400, body: { error: 'n: expected a whole number, got "first"' } });
  });

  it('an empty value is no value: the defaults apply', async () => {
    const page = await call(`/mailboxes/${user}/messages?query=&start=&limit=`);
    expect(page).toMatchObject({ status: 200, body: { query: '', start: 0, total: 0, messages: [] } });
  });

  it('a body that does not match gets a 400 naming the field; one that is not JSON says so', async () => {
    const send = (body: string) => call('/send', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
    expect(await send('{"from":"x","to":5}')).toEqual({ status: 400, body: { error: 'to: expected addresses separated by commas' } });
    expect(await send('{"to":"a@b.c"}')).toEqual({ status: 400, body: { error: 'from: expected a user of the domain (name or address)' } });
    expect(await send('{"from":"x","to":"a@b.c","subject":["re"]}')).toEqual({ status: 400, body: { error: 'subject: expected string, got ["re"]' } });
    expect(await send('[1,2]')).toEqual({ status: 400, body: { error: 'expected object, got [1,2]' } });
    expect(await send('')).toEqual({ status: 400, body: { error: 'expected a JSON body' } });
    expect(await send('{"from":')).toEqual({ status: 400, body: { error: 'expected a JSON body' } });
    const read = (body: string) => call('/messages/nothere/read', { method: 'PUT', body });
    expect(await read('{"read":"yes"}')).toEqual({ status: 400, body: { error: 'read: expected boolean, got "yes"' } });
    expect(await read('not json')).toEqual({ status: 400, body: { error: 'expected a JSON body' } });
    // A valid body (or none: "mark read") reaches the handler, which finds no such message.
    expect(await read('')).toEqual({ status: 404, body: { error: 'no such message (deleted, or taken by POP3)' } });
    expect(await read('{"read":false}')).toEqual({ status: 404, body: { error: 'no such message (deleted, or taken by POP3)' } });
  });
});

describe('replies are held to their declarations (checkReplies)', () => {
  const declared = {
    method: 'get',
    path: '/things/{id}',
    summary: 'a thing',
    params: z.object({ id: z.string() }),
    reply: z.strictObject({ id: z.string(), size: z.int() }),
  } as const;

  async function serveWith(reply: object, checkReplies: boolean) {
    const app = new Hono();
    app.onError((err, ctx) => ctx.json({ error: err.message }, 500));
    endpointServer(app, { checkReplies })(declared, ({ params }) => ({ id: params.id, size: 1, ...reply }));
    const res = await app.request('/things/a');
    return { status: res.status, body: await res.json() };
  }

  it('a reply with a field the declaration lacks, or of another type, fails the call', async () => {
    expect(await serveWith({}, true)).toEqual({ status: 200, body: { id: 'a', size: 1 } });
    const extra = await serveWith({ secret: 'x' }, true);
    expect(extra.status).toBe(500);
    expect(extra.body.error).toMatch(/^the reply of GET \/things\/\{id\} does not match its declaration: /);
    expect(extra.body.error).toContain('Unrecognized key: \\"secret\\"');
    expect((await serveWith({ size: 1.5 }, true)).status).toBe(500);
    // Without the check (production) the reply goes out as the handler made it.
    expect(await serveWith({ secret: 'x' }, false)).toEqual({ status: 200, body: { id: 'a', size: 1, secret: 'x' } });
  });
});
