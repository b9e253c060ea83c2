// Starts only our IMAP server for the benchmark, on 127.0.0.1 and a free port, with the scenario
// from the environment (SSTT_DATA_DIR points at the benchmark's Maildirs). Prints the port, the
// user the load logs in as and its Maildir; stops on SIGTERM. SIGUSR2 runs a full garbage
// collection, then prints "GC" on stderr: the memory benchmark reads what the connections keep,
// not the garbage a collector has not taken yet (which made the per-connection figure negative).
import v8 from 'node:v8';
import vm from 'node:vm';
import { openAppJournal } from '@sstt/events';
import { loadScenario, maildirOf } from '@sstt/scenario';
import { createImapServer } from '../src/imap/server.ts';

const s = loadScenario({ env: process.env, flags: {}, configFile: undefined });
const journal = openAppJournal(s, 'mail');
const server = createImapServer({ scenario: s, host: '127.0.0.1', port: 0, journal, plaintextAuth: true });
const [addr] = await server.listen();
const user = s.users[0]!;
process.stdout.write(`IMAP_PORT=${addr!.port}\nIMAP_USER=${user.name}\nIMAP_PASS=${user.password}\nIMAP_MAILDIR=${maildirOf(s, user.name)}\n`);
const stop = () => void server.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
process.on('SIGUSR2', () => {
  gc();
  process.stderr.write('GC\n');
});
