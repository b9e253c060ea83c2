// The worker thread that indexes a large mailbox at the console's first start (see
// prebuildCaches in mail-index.ts): it writes the cache and exits, taking its heap with it.
import { workerData } from 'node:worker_threads';
import { buildMailboxCache } from './mail-index.ts';

buildMailboxCache(workerData as { user: string; dir: string; cacheFile: string; authservId: string });
