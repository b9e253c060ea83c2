// The console's HTTP side (Hono on node): the JSON API under /api/v1, declared in api/ (every
// request and reply a zod schema, the OpenAPI document at /api/v1/openapi.json written from them)
// and served by one module per resource (resources/), one Server-Sent Events stream of every
// change, and the front end (dist/ui, built by Vite) on the same API. Every view of the UI is a
// call of this API.
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Server } from 'node:http';
import { createAdaptorServer } from '@hono/node-server';
import { followJournal, type JournalReader } from '@sstt/events';
import { ConnectionLimiter, silentLogger, type Logger } from '@sstt/runtime';
import type { Scenario } from '@sstt/scenario';
import { Hono } from 'hono';
import { basicAuth } from 'hono/basic-auth';
import { HTTPException } from 'hono/http-exception';
import { EventStreams, limitConnections, MAX_CONNECTIONS, MAX_CONNECTIONS_PER_ADDRESS, MAX_EVENT_STREAMS_PER_ADDRESS } from './connections.ts';
import { type MailIndex, openMailIndex, prebuildCaches } from './mail-index.ts';
import { createPkiJobs } from './pki-jobs.ts';
import { passwordChecker } from './password.ts';
import { certificatesResource } from './resources/certificates.ts';
import { composeResource } from './resources/compose.ts';
import type { ResourceContext } from './resources/context.ts';
import { dnsResource } from './resources/dns.ts';
import { eventsResource } from './resources/events.ts';
import { infoResource } from './resources/info.ts';
import { mailResource } from './resources/mail.ts';
import { endpointServer } from './resources/serve.ts';
import { sessionsResource } from './resources/sessions.ts';
import { QueryError } from './search.ts';
import { SessionStore } from './sessions.ts';
import { UI_CSP, uiFiles } from './ui-files.ts';

export interface ConsoleOptions {
  scenario: Scenario;
  host?: string;
  port?: number;
  /** The built front end (default apps/console/dist/ui of the checkout). */
  uiDir?: string;
  /** A mailbox without a cache and with this many messages is first indexed in a worker (default 2000). */
  indexWorkerMin?: number;
  /** Where the index cache lives (default <paths.data>/console). */
  cacheDir?: string;
  rescanMs?: number;
  /** Connection limits, certificate jobs (default: silent). */
  log?: Logger;
  /**
   * Parses every JSON reply and event with its declared schema, and fails the call (500) when it
   * does not match: the tests' console, so that the declarations stay what the server sends.
   */
  checkReplies?: boolean;
}

export interface ConsoleHandle {
  listen(): Promise<AddressInfo[]>;
  close(): Promise<void>;
  readonly index: MailIndex;
  readonly sessions: SessionStore;
  /** Reads the journal now (tests, instead of waiting for the poll). */
  pollJournal(): void;
  /** The routes (a test holds them and the OpenAPI document together). */
  readonly app: Hono;
}

export function createConsoleServer(options: ConsoleOptions): ConsoleHandle {
  const s = options.scenario;
  const uiDir = options.uiDir ?? path.join(s.paths.root, 'apps', 'console', 'dist', 'ui');
  const cacheOpt = options.cacheDir ? { cacheDir: options.cacheDir } : {};
  // Opened by listen(), after a large mailbox's first index was built in a worker.
  let index!: MailIndex;
  const sessions = new SessionStore();
  let journal: JournalReader | undefined;
  const log = options.log ?? silentLogger();
  const limits = s.console.limits;
  const limiter = new ConnectionLimiter({
    service: 'console',
    maxConnections: limits.maxConnections ?? MAX_CONNECTIONS,
    maxConnectionsPerAddress: limits.maxConnectionsPerAddress ?? MAX_CONNECTIONS_PER_ADDRESS,
    log,
  });
  const streams = new EventStreams(limits.maxEventStreamsPerAddress ?? MAX_EVENT_STREAMS_PER_ADDRESS);
  const pkiJobs = createPkiJobs(s, log);
  const serveUi = uiFiles(uiDir);
  const app = new Hono();

  app.onError((err, c) => {
    if (err instanceof HTTPException) {
      if (err.status === 401) return err.getResponse();
      return c.json({ error: err.message }, err.status);
    }
    if (err instanceof QueryError) return c.json({ error: err.message }, 400);
    return c.json({ error: `internal error: ${(err as Error).message}` }, 500);
  });
  app.notFound((c) => (c.req.path.startsWith('/api/') ? c.json({ error: `no such endpoint: ${c.req.method} ${c.req.path}` }, 404) : serveUi(c, '/index.html')));

  app.get('/livez', (c) => c.json({ ok: true }));
  if (s.console.password) {
    // Any user name; the password is the scenario's (the lab profile's console is on the LAN),
    // compared in constant time (password.ts).
    const matches = passwordChecker(s.console.password);
    app.use('*', basicAuth({ verifyUser: (_user, pass) => matches(pass), realm: 'sstt console' }));
  }
  app.use('*', async (c, next) => {
    await next();
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('Referrer-Policy', 'no-referrer');
    if (!c.res.headers.has('Content-Security-Policy')) c.header('Content-Security-Policy', UI_CSP);
  });

  // ---- the API: every endpoint of api/endpoints.ts, one module per resource ----
  const api = new Hono();
  const checkReplies = options.checkReplies ?? false;
  const ctx: ResourceContext = { s, serve: endpointServer(api, { checkReplies }), index: () => index, sessions, streams, pkiJobs, checkReplies };
  for (const resource of [infoResource, mailResource, sessionsResource, eventsResource, dnsResource, certificatesResource, composeResource]) resource(ctx);
  app.route('/api/v1', api);

  // ---- the front end ----
  app.get('/', (c) => serveUi(c, '/index.html'));
  app.get('/assets/*', (c) => serveUi(c, c.req.path));

  let server: Server | undefined;
  let gate: ReturnType<typeof limitConnections> | undefined;
  const host = options.host ?? s.listen.address;
  const port = options.port ?? s.listen.ports.console;
  return {
    get index() {
      return index;
    },
    sessions,
    app,
    pollJournal: () => journal?.poll(),
    listen: async () => {
      await prebuildCaches(s, { ...cacheOpt, ...(options.indexWorkerMin ? { workerMin: options.indexWorkerMin } : {}) });
      index = openMailIndex(s, { ...cacheOpt, ...(options.rescanMs ? { rescanMs: options.rescanMs } : {}) });
      return new Promise<AddressInfo[]>((resolve, reject) => {
        journal = followJournal(s.paths.events, (e) => sessions.add(e));
        const srv = createAdaptorServer({ fetch: app.fetch, hostname: host }) as Server;
        gate = limitConnections(srv, limiter);
        srv.once('error', reject);
        srv.listen(port, host, () => resolve([srv.address() as AddressInfo]));
        server = srv;
      });
    },
    close: async () => {
      journal?.close();
      index?.close();
      const srv = server;
      if (!srv) {
        limiter.close();
        return pkiJobs.idle();
      }
      // SSE streams stay open: end them so close() does not wait for the browsers.
      await new Promise<void>((resolve) => {
        srv.close(() => resolve());
        srv.closeAllConnections();
        gate?.destroyRefused();
      });
      limiter.close();
      await pkiJobs.idle();
    },
  };
}
