// How a declared endpoint (api/endpoints.ts) becomes a route of the console: its path parameters,
// query and body are parsed with their schemas first (a request that does not match gets a 400
// whose error names the field), the handler gets them typed, and what it returns is the JSON reply
// of the declared type (or a Response of its own: a file, the event stream). With `checkReplies`
// (the tests) every JSON reply is parsed with its schema too, so a reply the declarations do not
// describe fails the test that made it instead of going out undocumented.
import type { Context, Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { z } from 'zod';
import type { Endpoint } from '../api/endpoints.ts';

export class ApiError extends HTTPException {
  constructor(status: 400 | 401 | 404 | 409 | 413 | 422 | 429 | 500 | 502, message: string) {
    super(status, { message });
  }
}

type In<S> = S extends z.ZodType ? z.output<S> : undefined;
type Reply<R> = R extends z.ZodType ? z.input<R> | Response : Response;

export interface Request<E extends Endpoint> {
  params: In<E['params']>;
  query: In<E['query']>;
  body: In<E['body']>;
}

export type Handler<E extends Endpoint> = (req: Request<E>, c: Context) => Reply<E['reply']> | Promise<Reply<E['reply']>>;

const show = (v: unknown) => (v === undefined ? 'nothing' : (JSON.stringify(v)?.slice(0, 40) ?? String(v)));

/**
 * The messages of a bad request, in the words of the rest of the API ("limit: expected a whole
 * number, got "-1""); a schema's own message comes first.
 */
const messages: z.core.$ZodErrorMap = (iss) => {
  if (iss.code === 'invalid_type') return iss.input === undefined ? 'required' : `expected ${iss.expected}, got ${show(iss.input)}`;
  if (iss.code === 'invalid_value') return `expected one of ${iss.values.map(String).join(', ')}, got ${show(iss.input)}`;
  return undefined;
};

/** Parses one part of a request; the first problem becomes the 400's error. */
export function parseRequest<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const r = schema.safeParse(value, { error: messages });
  if (r.success) return r.data;
  const iss = r.error.issues[0]!;
  const field = iss.path.join('.');
  throw new ApiError(400, field ? `${field}: ${iss.message}` : iss.message);
}

/** The Hono form of an OpenAPI path: /messages/{id} → /messages/:id. */
export const honoPath = (p: string) => p.replace(/\{(\w+)\}/g, ':$1');

/** The JSON body; undefined when there is none (an endpoint whose body is optional takes that). */
async function readBody(c: Context, required: boolean): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === '') {
    if (required) throw new ApiError(400, 'expected a JSON body');
    return undefined;
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(400, 'expected a JSON body');
  }
}

/** A file name safe to put in a Content-Disposition header (RFC 6266 §4.3, RFC 8187). */
export function disposition(kind: 'attachment' | 'inline', name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_') || 'attachment';
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

/** Registers one declared endpoint with its handler. */
export type Serve = <E extends Endpoint>(e: E, handler: Handler<E>) => void;

/** Registers endpoints on `app` (the /api/v1 router). */
export function endpointServer(app: Hono, opts: { checkReplies?: boolean } = {}): Serve {
  return (e, handler) => {
    app.on(e.method.toUpperCase(), honoPath(e.path), async (c) => {
      const req = {
        params: e.params ? parseRequest(e.params, c.req.param()) : undefined,
        // An empty value counts as none ("limit=" is the default limit), as HTML forms send them.
        query: e.query ? parseRequest(e.query, Object.fromEntries(Object.entries(c.req.query()).filter(([, v]) => v !== ''))) : undefined,
        body: e.body ? parseRequest(e.body, await readBody(c, !e.body.safeParse(undefined).success)) : undefined,
      } as Request<typeof e>;
      const out = await handler(req, c);
      if (out instanceof Response) return out;
      if (opts.checkReplies && !('media' in e.reply)) {
        // What goes on the wire (a Date as its string, no undefined fields), as a client reads it.
        const r = (e.reply as z.ZodType).safeParse(JSON.parse(JSON.stringify(out)));
        if (!r.success) throw new Error(`the reply of ${e.method.toUpperCase()} ${e.path} does not match its declaration: ${r.error.message}`);
      }
      return c.json(out as object, 200);
    });
  };
}
