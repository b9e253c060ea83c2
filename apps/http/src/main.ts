// sstt-http: `sstt-http <port> <dir>` like the lab's `web_sstt <port> <dir>`, or the scenario's
// flags, or nothing (the scenario's port and web root). HTTPS is added when packages/pki has
// written the server certificate.
import fs from 'node:fs';
import path from 'node:path';
import { openAppJournal } from '@sstt/events';
import { createLogger, runApp } from '@sstt/runtime';
import { certPaths, ConfigError, loadScenario, parseCommandLine } from '@sstt/scenario';
import { createHttpServer, type HttpsOptions } from './server.ts';

const USAGE = `usage: sstt-http [<port> [<dir>]] [--root DIR] [--http-port N] [--https-port N] [--listen ADDR]
                 [--idle-timeout S] [--max-requests N] [--header-timeout MS] [--max-connections N]
                 [--form-email ADDR] [--log-dir DIR] [--cache-file-max BYTES] [--no-https]
                 [--config FILE] [--id ID] [--profile dev|lab]`;

const OWN = {
  root: { type: 'string' },
  'idle-timeout': { type: 'string' },
  'max-requests': { type: 'string' },
  'header-timeout': { type: 'string' },
  'max-connections': { type: 'string' },
  'form-email': { type: 'string' },
  'no-https': { type: 'boolean' },
  'cache-file-max': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function positiveInt(source: string, key: string, raw: unknown): number | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !/^\d+$/.test(raw) || Number(raw) < 1) throw new ConfigError(source, key, 'a positive integer', String(raw));
  return Number(raw);
}

const log = createLogger({ name: 'http', level: process.env.SSTT_LOG_LEVEL, format: process.env.SSTT_LOG_FORMAT });

await runApp({
  app: 'sstt-http',
  log,
  start: async () => {
    const { values, positionals } = parseCommandLine(process.argv.slice(2), OWN, true);
    if (values.help) {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    }
    if (positionals.length > 2) throw new ConfigError('command line', '(arguments)', '<port> <dir> at most', positionals.join(' '));
    const [portArg, dirArg] = positionals;
    // Positionals like the original: <port> <dir>; they become the scenario flags.
    const flags: Record<string, unknown> = { ...values };
    if (portArg !== undefined) {
      if (!/^\d+$/.test(portArg) || Number(portArg) > 65535) throw new ConfigError('command line', '<port>', 'a port number 0-65535', portArg);
      flags['http-port'] = portArg;
    }
    const scenario = loadScenario({ flags });
    const journal = openAppJournal(scenario, 'http'); // the requests the console's timeline shows
    const idle = positiveInt('command line', '--idle-timeout', values['idle-timeout']);
    const maxRequests = positiveInt('command line', '--max-requests', values['max-requests']);
    const headerTimeoutMs = positiveInt('command line', '--header-timeout', values['header-timeout']);
    const maxConnections = positiveInt('command line', '--max-connections', values['max-connections']);
    const cacheFileMax = positiveInt('command line', '--cache-file-max', values['cache-file-max']);

    const rootArg = dirArg ?? (values.root as string | undefined);
    const root = rootArg ? path.resolve(rootArg) : scenario.http.root;
    if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) {
      const [source, key] = dirArg ? ['command line', '<dir>'] : values.root ? ['command line', '--root'] : ['configuration', 'http.root'];
      throw new ConfigError(source, key, 'an existing directory', root);
    }
    let https: HttpsOptions | undefined;
    const cp = certPaths(scenario);
    const readCredentials = (): HttpsOptions => ({
      cert: fs.readFileSync(cp.server.cert),
      key: fs.readFileSync(cp.server.key),
      ca: fs.readFileSync(cp.ca.cert),
      ...(fs.existsSync(cp.crl) ? { crl: fs.readFileSync(cp.crl) } : {}),
    });
    if (!values['no-https'] && fs.existsSync(cp.server.cert) && fs.existsSync(cp.server.key) && fs.existsSync(cp.ca.cert)) {
      https = readCredentials();
    } else if (!values['no-https']) {
      log.warn({ expected: cp.server.cert }, 'no server certificate (run the pki first): HTTPS disabled');
    }

    const server = createHttpServer({
      scenario,
      root,
      ...(https ? { https } : {}),
      ...(idle ? { idleTimeoutMs: idle * 1000 } : {}),
      ...(maxRequests ? { maxRequests } : {}),
      ...(headerTimeoutMs ? { headerTimeoutMs } : {}),
      ...(maxConnections ? { maxConnections } : {}),
      ...(cacheFileMax ? { cacheFileMax } : {}),
      ...(values['form-email'] ? { formEmail: values['form-email'] as string } : {}),
      // SSTT_RAW_TCP=net puts the plain listener on node:net (runtime tcp.ts).
      ...(process.env.SSTT_RAW_TCP === 'net' ? { transport: 'net' as const } : {}),
      log,
      journal,
    });
    await server.listen();
    if (https) {
      // `sstt-pki revoke` rewrites the CRL: take it (and renewed certificates) without a restart.
      const reload = () => {
        try {
          server.updateTls(readCredentials());
          log.info('TLS credentials reloaded');
        } catch (err) {
          log.warn({ err: (err as Error).message }, 'TLS credentials not reloaded');
        }
      };
      for (const f of [cp.crl, cp.server.cert, cp.ca.cert]) fs.watchFile(f, { interval: 2000 }, (cur, prev) => cur.mtimeMs !== prev.mtimeMs && reload());
    }
    return [
      {
        close: async () => {
          for (const f of [cp.crl, cp.server.cert, cp.ca.cert]) fs.unwatchFile(f);
          await server.close();
        },
      },
    ];
  },
});
