// The worker thread that does one certificate job of the console (revoke or renew through
// packages/pki): key generation, signing and the PKCS#12 encryption in node-forge take the CPU for
// a long while, which on the console's own event loop would hold every other request (and reset
// the connections that waited meanwhile). It answers once and exits, taking node-forge's heap.
import { parentPort, workerData } from 'node:worker_threads';
import { PkiError, renewCertificates, revokeCertificate } from '@sstt/pki';
import type { PkiJob, PkiJobReply } from './pki-jobs.ts';

const job = workerData as PkiJob;
let reply: PkiJobReply;
try {
  if (job.op === 'renew') reply = { ok: true, names: await renewCertificates(job.scenario, { names: [job.name] }) };
  else {
    await revokeCertificate(job.scenario, job.name);
    reply = { ok: true, names: [job.name] };
  }
} catch (err) {
  reply = { ok: false, refused: err instanceof PkiError, message: (err as Error).message };
}
parentPort!.postMessage(reply);
