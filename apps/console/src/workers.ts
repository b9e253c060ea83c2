// Starting one of the console's worker threads. The bundle has dist/<entry>.js beside the code
// that starts it. From the TypeScript sources (tests, npm start) the worker registers tsx itself
// first (a loader given by execArgv is not in place yet when a worker's first module loads).
import { Worker } from 'node:worker_threads';

/** The worker entry points (each also an entry of the build script in package.json). */
export type WorkerEntry = 'index-worker' | 'pki-worker';

export function startWorker(entry: WorkerEntry, workerData: unknown): Worker {
  if (import.meta.url.endsWith('.ts')) {
    const href = new URL(`./${entry}.ts`, import.meta.url).href;
    return new Worker(`import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(href)}); })`, { eval: true, workerData });
  }
  return new Worker(new URL(`./${entry}.js`, import.meta.url), { workerData });
}
