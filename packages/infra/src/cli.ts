// `npm run infra -- [--id 1234] [--check]`: regenerates infra/ for a scenario (lab profile by default).
import { parseCommandLine, loadScenario } from '@sstt/scenario';
import { runCli } from '@sstt/runtime';
import { generateAll, staleFiles, writeInfra } from './index.ts';

runCli('infra', () => {
  const { values } = parseCommandLine(process.argv.slice(2), { check: { type: 'boolean' }, out: { type: 'string' } });
  // infra/ holds the configs of the real lab hosts: the lab profile unless --profile says otherwise.
  // The committed infra/ must not depend on this machine's DKIM keys (certs/dkim, never
  // committed): its zone publishes none. `--out DIR` writes the files for this machine, keys included.
  const out = values.out as string | undefined;
  const s = loadScenario({ flags: { profile: 'lab', ...values }, dkimKeys: out !== undefined });
  const dir = out ?? s.paths.infra;
  const files = generateAll(s);
  if (values.check) {
    const stale = staleFiles(files, dir);
    if (stale.length) {
      console.error(`infra: out of date in ${dir}: ${stale.join(', ')}; run \`npm run infra\` and commit`);
      return 1;
    }
    console.log(`infra: ${files.size} files up to date in ${dir}`);
    return 0;
  }
  for (const rel of writeInfra(files, dir)) console.log(`wrote infra/${rel}`);
  return 0;
});
