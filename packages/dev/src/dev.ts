// `npm run dev` (turbo runs this once the apps are built): make sure the certificates exist,
// print the table of services, then run every app as its own process under the supervisor.
// Warm, it reads a few files and stats the certificates; node-forge is loaded only when
// something must be minted.
import fs from 'node:fs';
import path from 'node:path';
import { hostSetup } from '@sstt/cli/state';
import { pkiIsCurrent } from '@sstt/pki/stamp';
import { createLogger } from '@sstt/runtime';
import { bannerText, certPaths, ConfigError, EXIT_CONFIG, loadScenario, parseCommandLine, presentApps, type Scenario } from '@sstt/scenario';
import { supervise, watchAncestors } from './supervisor.ts';

const log = createLogger({ name: 'dev', level: process.env.SSTT_LOG_LEVEL, format: process.env.SSTT_LOG_FORMAT });

async function certificates(s: Scenario): Promise<void> {
  if (pkiIsCurrent(s)) {
    console.log(`Certificates in ${path.resolve(certPaths(s).dir)}/ (how to import them: npx sstt-pki init)`);
    return;
  }
  const { importHelp, initPki } = await import('@sstt/pki');
  const { created } = await initPki(s, { log: (line) => console.log(line) });
  // The import help once, when something was minted; after that the one-line pointer above.
  if (created.length > 0) console.log(`\n${importHelp(s)}\n`);
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const { values } = parseCommandLine(argv);
  const s = loadScenario({ flags: values });
  await certificates(s);
  const apps = [...presentApps(s)];
  // While this machine cannot reach the domain by name with trust yet, the banner says which of
  // `sstt resolve` / `sstt trust` would do it (their record in var/host/ says what was run).
  console.log(bannerText(s, new Set(apps), hostSetup(s)));
  const env = process.env;
  const specs = apps.map((app) => {
    const entry = path.join(s.paths.root, 'apps', app, 'dist', 'main.js');
    if (!fs.existsSync(entry)) throw new Error(`${entry} is missing: run npm run build (npm run dev builds it first)`);
    return { name: app, argv: [process.execPath, entry, ...argv], env };
  });
  const sup = supervise(specs, log);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => sup.stop(signal));
  // If whatever started us dies without a signal reaching us (npm killed with -9), stop too: the
  // two processes above us are `npm run dev`'s shell and npm (the user's shell above them may go
  // while a `nohup npm run dev` goes on).
  watchAncestors(2, (pid) => {
    log.warn({ pid }, 'the process that started npm run dev is gone: stopping every app');
    sup.stop('SIGTERM');
  });
  return sup.done;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof ConfigError) {
      process.stderr.write(`dev: ${err.message}\n`);
      process.exit(EXIT_CONFIG);
    }
    throw err;
  },
);
