// Regenerates sstt.config.schema.json from the zod schema (a test checks it is current).
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { configJsonSchema } from './schema.ts';

const out = fileURLToPath(new URL('../sstt.config.schema.json', import.meta.url));
fs.writeFileSync(out, `${JSON.stringify(configJsonSchema(), null, 2)}\n`);
console.log(`wrote ${out}`);
