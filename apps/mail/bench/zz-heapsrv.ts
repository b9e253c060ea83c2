import inspector from 'node:inspector';
import fs from 'node:fs';
const session = new inspector.Session();
session.connect();
const post = (m: string, p?: object) => new Promise<any>((res, rej) => session.post(m, p ?? {}, (e, r) => (e ? rej(e) : res(r))));
await post('HeapProfiler.enable');
let started = false;
process.on('SIGUSR1', async () => {
  if (!started) {
    await post('HeapProfiler.startSampling', { samplingInterval: 1024, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
    started = true;
    process.stderr.write('sampling\n');
    return;
  }
  const { profile } = await post('HeapProfiler.stopSampling');
  fs.writeFileSync('/tmp/imapx/heap.json', JSON.stringify(profile));
  process.stderr.write('written\n');
});
await import('./imap-server.ts');
