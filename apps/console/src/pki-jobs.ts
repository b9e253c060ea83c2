// The console's certificate jobs (revoke, renew), each in a worker thread of its own
// (pki-worker.ts) so that the console keeps answering meanwhile, and one at a time: two jobs at
// once would each rewrite the CRL from what they read, and one revocation could be lost.
import type { Logger } from '@sstt/runtime';
import type { Scenario } from '@sstt/scenario';
import { startWorker } from './workers.ts';

export type PkiOp = 'revoke' | 'renew';

export interface PkiJob {
  op: PkiOp;
  name: string;
  scenario: Scenario;
}

/** What the worker answers: the certificates revoked or renewed, or why not. */
export type PkiJobReply = { ok: true; names: string[] } | { ok: false; refused: boolean; message: string };

/** A job packages/pki refused (a PkiError: no such certificate, no CA yet). */
export class PkiRefusal extends Error {
  override readonly name = 'PkiRefusal';
}

export interface PkiJobs {
  /** Runs the job after the ones before it; resolves with the names revoked or renewed. */
  run(op: PkiOp, name: string): Promise<string[]>;
  /** Resolves when no job is running or waiting (close() waits: a job cut short could leave a CRL half written). */
  idle(): Promise<void>;
}

export function createPkiJobs(scenario: Scenario, log: Logger): PkiJobs {
  let last: Promise<unknown> = Promise.resolve();
  const runOne = (op: PkiOp, name: string) =>
    new Promise<string[]>((resolve, reject) => {
      log.info({ op, name }, 'certificate job started');
      const worker = startWorker('pki-worker', { op, name, scenario } satisfies PkiJob);
      let answered = false;
      worker.once('message', (reply: PkiJobReply) => {
        answered = true;
        if (reply.ok) {
          log.info({ op, name, names: reply.names }, 'certificate job done');
          resolve(reply.names);
        } else {
          log.info({ op, name, error: reply.message }, 'certificate job refused');
          reject(reply.refused ? new PkiRefusal(reply.message) : new Error(reply.message));
        }
      });
      worker.once('error', (err) => {
        answered = true;
        log.error({ op, name, err }, 'certificate job failed');
        reject(err);
      });
      // Node delivers the worker's messages before its exit event.
      worker.once('exit', (code) => {
        if (!answered) reject(new Error(`the certificate worker ended (exit ${code}) without an answer`));
      });
    });
  return {
    run(op, name) {
      const job = last.then(() => runOne(op, name));
      last = job.catch(() => {});
      return job;
    },
    idle: () => last.then(() => {}),
  };
}
