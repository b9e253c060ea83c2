// Starts only our POP3 server for the benchmark, on 127.0.0.1 and a free port, with the scenario
// from the environment (SSTT_DATA_DIR points at the benchmark's Maildirs). Prints the port and the
// user the load logs in as; stops on SIGTERM.
import { openAppJournal } from '@sstt/events';
import { loadScenario } from '@sstt/scenario';
import { createPop3Server } from '../src/pop3/server.ts';

const s = loadScenario({ env: process.env, flags: {}, configFile: undefined });
// The session journal the console reads, as main.ts opens it (SSTT_EVENTS=none: off).
const journal = openAppJournal(s, 'mail');
const server = createPop3Server({ scenario: s, host: '127.0.0.1', port: 0, journal });
const [addr] = await server.listen();
const user = s.users[0]!;
process.stdout.write(`POP3_PORT=${addr!.port}\nPOP3_USER=${user.name}\nPOP3_PASS=${user.password}\n`);
const stop = () => void server.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
