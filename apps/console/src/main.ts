// sstt-console: the domain's web console on the scenario's console port. Only this file reads
// argv, the environment and files. The lab profile's console needs console.password.
import { ConfigError, loadScenario, parseCommandLine } from '@sstt/scenario';
import { createLogger, ListenError, runApp } from '@sstt/runtime';
import { createConsoleServer } from './server.ts';

const log = createLogger({ name: 'console', level: process.env.SSTT_LOG_LEVEL, format: process.env.SSTT_LOG_FORMAT });

runApp({
  app: 'sstt-console',
  log,
  start: async () => {
    const { values } = parseCommandLine(process.argv.slice(2));
    const s = loadScenario({ flags: values });
    if (s.profile === 'lab' && !s.console.password) {
      throw new ConfigError('configuration', 'console.password', 'a password for the console (the lab profile listens on the LAN)', 'none');
    }
    const host = s.listen.address;
    const port = s.listen.ports.console;
    const server = createConsoleServer({ scenario: s, host, port, log });
    try {
      for (const a of await server.listen()) log.info({ service: 'console', address: a.address, port: a.port }, 'listening');
    } catch (err) {
      await server.close();
      throw new ListenError('console', host, port, err as NodeJS.ErrnoException);
    }
    return [server];
  },
});
