// The world every HTTP test runs in: a scenario pointing at temporary directories, a web root
// with one file per media type, a secret planted OUTSIDE the root (and in a sibling directory
// whose name starts like the root's), symlinks leading out, certificates from packages/pki,
// and servers started on 127.0.0.1 port 0 with plain and TLS listeners.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type tls from 'node:tls';
import { loadScenario, type Scenario } from '@sstt/scenario';
import { rawTcp, rawTls, startServer, tempDir, type RawClient } from '@sstt/testkit';
import { createHttpServer, type HttpServerOptions } from '../src/server.ts';
import { mintCerts, type TestCerts } from './certs.ts';

export type { HttpServerOptions };

/** How long cleanup waits for the servers to close before removing the world anyway. */
const CLOSE_WAIT_MS = 8000;

/** The token planted outside the root: no response may ever contain it. */
export const SECRET = `TOP-SECRET-${crypto.randomBytes(8).toString('hex')}`;

/** Files of the test root: name -> content. One per media type of the table. */
export const FILES: Record<string, string | Buffer> = {
  'index.html': '<!DOCTYPE html><html><head><title>index</title></head><body><p>INDEX PAGE</p><a href="http://www.um.es">UM</a></body></html>\n',
  'page.htm': '<html><body>HTM PAGE</body></html>\n',
  'sub/inner.html': '<html><body>INNER PAGE</body></html>\n',
  'sub/index.html': '<html><body>SUB INDEX</body></html>\n',
  'a.txt': 'plain text 0123456789abcdefghijklmnopqrstuvwxyz\n',
  'style.css': 'body { color: black; }\n',
  'app.js': 'console.log("hi");\n',
  'data.json': '{"ok":true}\n',
  'pic.gif': Buffer.concat([Buffer.from('GIF89a'), crypto.randomBytes(100)]),
  'pic.jpg': Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), crypto.randomBytes(9000)]),
  'pic.jpeg': Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), crypto.randomBytes(300)]),
  'pic.png': Buffer.concat([Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'), crypto.randomBytes(300)]),
  'favicon.ico': crypto.randomBytes(200),
  'arch.zip': crypto.randomBytes(500),
  'arch.gz': crypto.randomBytes(500),
  'arch.tar': crypto.randomBytes(1024),
  'draw.svg': '<svg xmlns="http://www.w3.org/2000/svg"></svg>\n',
  'doc.pdf': '%PDF-1.4\n%%EOF\n',
  'pic.webp': crypto.randomBytes(128),
  'font.woff2': crypto.randomBytes(128),
  'movie.mp4': crypto.randomBytes(2048),
  'mod.wasm': Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]),
  'unknown.xyz': 'an extension outside the table\n',
  README: 'no extension at all\n',
  'accion_form.html': '<html><body><form method="post" action="/accion_form.html"><input name="email"></form></body></html>\n',
};

/** Media types expected for each extension (RFC/IANA registrations). */
export const MEDIA_TYPES: Record<string, string> = {
  gif: 'image/gif',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  ico: 'image/vnd.microsoft.icon',
  zip: 'application/zip',
  gz: 'application/gzip',
  tar: 'application/x-tar',
  htm: 'text/html',
  html: 'text/html',
  css: 'text/css',
  js: 'text/javascript', // RFC 9239
  svg: 'image/svg+xml',
  txt: 'text/plain',
  json: 'application/json',
  pdf: 'application/pdf',
  webp: 'image/webp',
  woff2: 'font/woff2',
  mp4: 'video/mp4',
  wasm: 'application/wasm',
};

/**
 * tcp: the plain listener as it runs by default (the raw libuv TCP handle, runtime raw-tcp.ts);
 * net: the same server with node:net forced (the fallback transport); tls: the HTTPS listener.
 */
export type TransportName = 'tcp' | 'net' | 'tls';

export interface Transport {
  name: TransportName;
  port: number;
  connect(): Promise<RawClient>;
}

export interface Running {
  /** The server handle itself (for updateTls). */
  server: ReturnType<typeof createHttpServer>;
  transports: Transport[];
  byName(name: TransportName): Transport;
  close(): Promise<void>;
}

export interface World {
  s: Scenario;
  dir: string;
  /** The web root. */
  root: string;
  /** Where the server writes its logs. */
  logDir: string;
  certs: TestCerts;
  /** www.<domain>, the name on the server certificate. */
  www: string;
  /** TLS options of a client presenting `user`'s certificate (the valid one by default). */
  tlsClient(user?: string | null): tls.ConnectionOptions;
  /**
   * Starts a server on this world with the given overrides. With `net`, a twin server with the
   * same options, node:net forced and no HTTPS (its logs in their own directory) is started too
   * and offered as the transport 'net'.
   */
  start(overrides?: Partial<HttpServerOptions>, opts?: { net?: boolean }): Promise<Running>;
  /** Excerpts of every response in which the secret outside the root appeared (must stay empty). */
  leaks(): string[];
  /** Writes a file under the root (creating directories). */
  put(rel: string, content: string | Buffer): string;
  cleanup(): Promise<void>;
}

export async function createWorld(): Promise<World> {
  const t = tempDir('sstt-http-test-');
  const dir = t.dir;
  const root = path.join(dir, 'www');
  const logDir = path.join(dir, 'logs');
  fs.mkdirSync(root);
  fs.mkdirSync(logDir);
  const put = (rel: string, content: string | Buffer) => {
    const f = path.join(root, rel);
    fs.mkdirSync(path.dirname(f), { recursive: true });
    fs.writeFileSync(f, content);
    return f;
  };
  for (const [rel, content] of Object.entries(FILES)) put(rel, content);

  // The secret, outside the root: beside it, inside a sibling whose name starts like the root's
  // ("www-private" passes a naive startsWith(root) check), and under a directory reached by symlink.
  const secretHtml = `<html><body>${SECRET}</body></html>\n`;
  fs.writeFileSync(path.join(dir, 'secret.html'), secretHtml);
  fs.writeFileSync(path.join(dir, 'secret.txt'), `${SECRET}\n`);
  fs.mkdirSync(path.join(dir, 'www-private'));
  fs.writeFileSync(path.join(dir, 'www-private', 'secret.html'), secretHtml);
  fs.mkdirSync(path.join(dir, 'outside'));
  fs.writeFileSync(path.join(dir, 'outside', 'secret.html'), secretHtml);
  fs.symlinkSync(path.join(dir, 'secret.html'), path.join(root, 'escape.html'));
  fs.symlinkSync('../secret.html', path.join(root, 'escape-relative.html'));
  fs.symlinkSync(path.join(dir, 'outside'), path.join(root, 'escape-dir'));
  fs.symlinkSync('index.html', path.join(root, 'alias.html'));

  const configFile = path.join(dir, 'sstt.config.json');
  fs.writeFileSync(configFile, '{}\n');
  const s = loadScenario({
    env: { SSTT_CERTS_DIR: path.join(dir, 'certs'), SSTT_DATA_DIR: path.join(dir, 'data'), SSTT_LOG_DIR: logDir },
    flags: {},
    configFile,
  });
  const certs = await mintCerts(s);
  const www = s.names.find((n) => n.label === 'www')!.fqdn;
  const ca = fs.readFileSync(certs.paths.ca.cert);

  const tlsClient = (user: string | null = certs.good): tls.ConnectionOptions => ({
    ca,
    servername: www,
    ...(user ? { cert: fs.readFileSync(certs.paths.client(user).cert), key: fs.readFileSync(certs.paths.client(user).key) } : {}),
  });

  // Every byte any test connection receives is scanned for the secret (also across chunk
  // boundaries), so a leak is caught even by a test that was looking at something else.
  const leaks: string[] = [];
  const watch = (c: RawClient): RawClient => {
    let tail = '';
    c.socket.on('data', (d: Buffer) => {
      const text = tail + d.toString('latin1');
      if (text.includes(SECRET)) leaks.push(text.slice(Math.max(0, text.indexOf(SECRET) - 300), text.indexOf(SECRET) + SECRET.length));
      tail = text.slice(-SECRET.length);
    });
    return c;
  };

  const running: Running[] = [];
  const start = async (overrides: Partial<HttpServerOptions> = {}, opts: { net?: boolean } = {}): Promise<Running> => {
    const options: HttpServerOptions = {
      scenario: s,
      root,
      host: '127.0.0.1',
      port: 0,
      https: {
        port: 0,
        cert: fs.readFileSync(certs.paths.server.cert),
        key: fs.readFileSync(certs.paths.server.key),
        ca,
        crl: fs.readFileSync(certs.paths.crl),
      },
      logDir,
      // As main.ts does: SSTT_RAW_TCP=net runs the whole suite with node:net as the plain transport.
      ...(process.env.SSTT_RAW_TCP === 'net' ? { transport: 'net' as const } : {}),
      ...overrides,
    } as HttpServerOptions;
    const handle = createHttpServer(options);
    const started = await startServer(handle);
    const [plain, secure] = started.addresses;
    let closing: Promise<void> | undefined;
    const transports: Transport[] = [{ name: 'tcp', port: plain!.port, connect: () => rawTcp(plain!.port).then(watch) }];
    if (secure) transports.push({ name: 'tls', port: secure.port, connect: () => rawTls(secure.port, tlsClient()).then(watch) });
    let twin: Awaited<ReturnType<typeof startServer>> | undefined;
    if (opts.net) {
      const netLogs = options.logDir === false ? false : `${options.logDir ?? logDir}-net`;
      const twinHandle = createHttpServer({ ...options, https: undefined, transport: 'net', logDir: netLogs });
      twin = await startServer(twinHandle);
      const port = twin.addresses[0]!.port;
      if (twinHandle.plainTransport() !== 'net') throw new Error('the net twin does not run on node:net');
      transports.push({ name: 'net', port, connect: () => rawTcp(port).then(watch) });
    }
    const r: Running = {
      server: handle,
      transports,
      byName: (name) => {
        const found = transports.find((x) => x.name === name);
        if (!found) throw new Error(`the server has no ${name} listener`);
        return found;
      },
      // Closed once, even when a test closed it before the cleanup did.
      close: () => (closing ??= Promise.all([started.close(), twin?.close()]).then(() => undefined)),
    };
    running.push(r);
    return r;
  };

  return {
    s,
    dir,
    root,
    logDir,
    certs,
    www,
    tlsClient,
    leaks: () => leaks,
    start,
    put,
    cleanup: async () => {
      // The temporary world goes away even if a server under test fails to close in time.
      let timer: NodeJS.Timeout | undefined;
      const giveUp = new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_WAIT_MS)));
      await Promise.race([Promise.allSettled(running.map((r) => r.close())), giveUp]);
      clearTimeout(timer);
      t.remove();
    },
  };
}
