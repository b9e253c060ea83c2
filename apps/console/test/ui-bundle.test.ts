// The front end imports only the types of the API's declarations: its bundle holds the pages,
// Preact, the plain values of the declarations (api/values.ts) and the one pure function it shares
// with the server (auth-results.ts `failed`), never zod, Hono or any other module of the server.
// Built as `npm run build` builds it, in memory.
import path from 'node:path';
import { build, type Rolldown } from 'vite';
import { describe, expect, it } from 'vitest';

const root = path.join(import.meta.dirname, '..');

describe('the front end bundle', () => {
  it('holds ui/, preact, src/api/values.ts and src/auth-results.ts only', async () => {
    const out = (await build({ configFile: path.join(root, 'ui', 'vite.config.ts'), logLevel: 'silent', build: { write: false } })) as Rolldown.RolldownOutput;
    const modules = out.output.flatMap((o) => (o.type === 'chunk' ? o.moduleIds : [])).map((m) => path.relative(root, m));
    const outside = modules.filter((m) => !m.startsWith('ui/') && !/node_modules\/preact\//.test(m));
    expect(outside.sort()).toEqual(['src/api/values.ts', 'src/auth-results.ts']);
    expect(modules).toContain('ui/views/message.tsx');
  });
});
