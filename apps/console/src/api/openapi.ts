// The OpenAPI 3.1 document of the console's API, written from its declarations (endpoints.ts and
// schemas.ts) and served at /api/v1/openapi.json, so that scripts and other projects' tests can
// call the console as Mailpit's users call Mailpit. The schemas are zod's own JSON Schema export
// (draft 2020-12, the dialect of OpenAPI 3.1): requests as a client writes them (io "input"),
// replies as the server sends them (io "output"); each named schema (`.meta({ id })`) becomes a
// component.
import { z } from 'zod';
import { type Endpoint, type ErrorStatus, endpoints, type Media } from './endpoints.ts';
import { ErrorReply } from './schemas.ts';

type Json = Record<string, unknown>;

const COMPONENTS = '#/components/schemas/';

const STATUS_TEXT: Record<ErrorStatus | 401, string> = {
  400: 'a request that does not match its schema (the error names the field), or a bad search',
  401: 'the console has a password (HTTP Basic)',
  404: 'not found',
  409: 'conflict',
  422: 'not acceptable',
  429: 'too many',
  502: 'a server of the domain did not answer',
};

const isMedia = (r: Endpoint['reply']): r is Media => 'media' in r;

/**
 * JSON Schemas of many zod schemas at once, with the named ones pulled out as components: one
 * object holding them all is converted (so a schema used twice is one $def), then taken apart.
 */
function convert(schemas: z.ZodType[], io: 'input' | 'output', components: Json): Json[] {
  const root = z.object(Object.fromEntries(schemas.map((s, i) => [`s${i}`, s])));
  const out = z.toJSONSchema(root, { io, target: 'draft-2020-12', unrepresentable: 'throw' }) as Json & {
    properties: Record<string, Json>;
    $defs?: Record<string, Json>;
  };
  const text = JSON.stringify(out).replaceAll('"#/$defs/', `"${COMPONENTS}`);
  const fixed = JSON.parse(text) as typeof out;
  for (const [id, def] of Object.entries(fixed.$defs ?? {})) {
    if (id in components && JSON.stringify(components[id]) !== JSON.stringify(def))
      throw new Error(`the schema ${id} reads differently as a request and as a reply: give the two their own ids`);
    components[id] = def;
  }
  return schemas.map((_, i) => fixed.properties[`s${i}`]!);
}

const json = (schema: Json) => ({ 'application/json': { schema } });

/** The parameters of an object schema's JSON Schema: each property with its description moved up. */
function parameters(where: 'path' | 'query', objectSchema: Json): Json[] {
  const props = (objectSchema.properties ?? {}) as Record<string, Json>;
  const required = new Set((objectSchema.required ?? []) as string[]);
  return Object.entries(props).map(([name, schema]) => {
    const { description, ...rest } = schema;
    return { name, in: where, required: where === 'path' || required.has(name), ...(description ? { description } : {}), schema: rest };
  });
}

export interface OpenApiOptions {
  /** The domain (in the title). */
  domain: string;
  /** The console asks for a password (HTTP Basic): every call says so. */
  basicAuth: boolean;
}

export function openApiDocument(o: OpenApiOptions): Json {
  const components: Json = {};
  const list = Object.entries(endpoints) as Array<[string, Endpoint]>;
  // Requests as the client writes them.
  const requestSchemas = [...new Set(list.flatMap(([, e]) => [e.params, e.query, e.body].filter((x): x is z.ZodType => x !== undefined)))];
  const requestJson = new Map(requestSchemas.map((s, i) => [s, i]));
  const convertedRequests = convert(requestSchemas, 'input', components);
  const req = (s: z.ZodType) => convertedRequests[requestJson.get(s)!]!;
  // Replies as the server sends them: JSON bodies, the live events, the error.
  const replySchemas = [...new Set([ErrorReply, ...list.flatMap(([, e]) => (isMedia(e.reply) ? Object.values(e.reply.events ?? {}) : [e.reply]))])];
  const replyJson = new Map(replySchemas.map((s, i) => [s, i]));
  const convertedReplies = convert(replySchemas, 'output', components);
  const rep = (s: z.ZodType) => convertedReplies[replyJson.get(s)!]!;
  const error = (description: string) => ({ description, content: json(rep(ErrorReply)) });

  const paths: Record<string, Json> = {};
  for (const [operationId, e] of list) {
    const ok = isMedia(e.reply)
      ? {
          description: e.reply.description,
          content: {
            [e.reply.media]: {
              schema: e.reply.events
                ? {
                    description: 'one event of the stream',
                    oneOf: Object.entries(e.reply.events).map(([event, schema]) => ({
                      type: 'object',
                      properties: { event: { const: event }, data: rep(schema) },
                      required: ['event', 'data'],
                    })),
                  }
                : { type: 'string', ...(e.reply.media.startsWith('text/') ? {} : { contentEncoding: 'binary' }) },
            },
          },
        }
      : { description: 'OK', content: json(rep(e.reply)) };
    const errors: Partial<Record<number, string>> = { ...(e.query || e.body ? { 400: STATUS_TEXT[400] } : {}), ...e.errors };
    const bodyOptional = e.body?.safeParse(undefined).success;
    const params = [...(e.params ? parameters('path', req(e.params)) : []), ...(e.query ? parameters('query', req(e.query)) : [])];
    paths[e.path] ??= {};
    paths[e.path]![e.method] = {
      operationId,
      summary: e.summary,
      ...(params.length > 0 ? { parameters: params } : {}),
      ...(e.body ? { requestBody: { required: !bodyOptional, content: json(req(e.body)) } } : {}),
      responses: {
        200: ok,
        ...Object.fromEntries(Object.entries(errors).map(([status, when]) => [status, error(when!)])),
        ...(o.basicAuth ? { 401: { description: STATUS_TEXT[401] } } : {}),
      },
    };
  }

  return {
    openapi: '3.1.0',
    info: {
      title: `sstt console of ${o.domain}`,
      version: '1',
      description:
        'Mailboxes, sessions, DNS and certificates of the domain: every view of the console is a call of this API. Errors are JSON {"error": "..."}.',
    },
    servers: [{ url: '/api/v1' }],
    ...(o.basicAuth ? { security: [{ basic: [] }] } : {}),
    paths,
    components: { schemas: components, ...(o.basicAuth ? { securitySchemes: { basic: { type: 'http', scheme: 'basic' } } } : {}) },
  };
}
