// Run on exterior by `sstt-lab up`: the outside world's mail exchanger, where the MX of the
// university's domain points (outside.ts), so what servidor relays there (the replay's message to
// um.es) leaves the LAN by SMTP as it would to the real MX, and can be read back: each message
// accepted is kept as received (after the dot-unstuffing of RFC 5321 §4.5.2), one file per
// message in the directory it is given, written whole before it is named `*.eml`. It refuses
// every other domain (it is an MX, not a relay) and offers neither AUTH nor STARTTLS, so the
// conversation stays in clear on the LAN capture, for `check` and `compare` to read.
import fs from 'node:fs';
import path from 'node:path';
import { SMTPServer } from 'smtp-server';

export interface OutsideMxArgs {
  /** Where it listens (the gateway's address) and its port (25, RFC 5321 §4.5.4.2). */
  address: string;
  port: number;
  /** The only domain it takes mail for. */
  domain: string;
  /** Where each message received is kept. */
  dir: string;
  /** Its name, in its greeting. */
  hostname: string;
}

function startOutsideMx(a: OutsideMxArgs): SMTPServer {
  fs.mkdirSync(a.dir, { recursive: true });
  let seq = 0;
  const server = new SMTPServer({
    // exim pipelines QUIT after the message's final '.' and half-closes (FIN) when the server
    // offers PIPELINING (RFC 2920); smtp-server then closes without the 250 for the message, so
    // exim would deliver it again later. PIPELINING is optional: without it exim waits for each reply.
    hidePIPELINING: true,
    name: a.hostname,
    banner: 'the outside MX of the sstt lab',
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    onRcptTo(address, _session, callback) {
      if (address.address.toLowerCase().endsWith(`@${a.domain}`)) return callback();
      // RFC 5321 §3.6.2: a host that is no relay refuses other domains with 550.
      callback(Object.assign(new Error('5.7.1 relaying denied'), { responseCode: 550 }));
    },
    onData(stream, _session, callback) {
      const name = `${Date.now()}-${process.pid}-${++seq}`;
      const tmp = path.join(a.dir, `.${name}.tmp`);
      const out = fs.createWriteStream(tmp);
      stream.pipe(out);
      out.on('finish', () => {
        fs.renameSync(tmp, path.join(a.dir, `${name}.eml`));
        callback();
      });
      out.on('error', (err) => callback(err));
    },
  });
  server.on('error', (err) => console.error(`outside MX: ${err.message}`));
  server.listen(a.port, a.address);
  return server;
}

startOutsideMx(JSON.parse(process.argv[2]!) as OutsideMxArgs);
