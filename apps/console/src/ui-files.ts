// The front end's files (dist/ui, built by Vite) as the console serves them: under the console's
// own Content-Security-Policy, hashed assets cached for good, every other path the page itself
// (the front end routes on the URL's fragment).
import fs from 'node:fs';
import path from 'node:path';
import type { Context } from 'hono';

/** The console's own pages: only its own scripts, styles and API; frames only of itself. */
export const UI_CSP = [
  "default-src 'self'",
  "img-src 'self' data:",
  "style-src 'self' 'unsafe-inline'",
  "frame-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const STATIC_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.png': 'image/png',
};

/** Answers `p` (a path below `uiDir`) from the built front end. */
export function uiFiles(uiDir: string): (c: Context, p: string) => Response {
  const serve = (c: Context, p: string): Response => {
    const rel = path.normalize(p).replace(/^(\.\.[/\\])+/, '');
    const file = path.join(uiDir, rel);
    if (!file.startsWith(uiDir + path.sep)) return c.json({ error: 'not found' }, 404);
    let data: Buffer;
    try {
      data = fs.readFileSync(file);
    } catch {
      if (p !== '/index.html') return serve(c, '/index.html');
      return c.text('The console front end is not built: run npm run build -w @sstt/console', 503);
    }
    const type = STATIC_TYPES[path.extname(file)] ?? 'application/octet-stream';
    return c.body(new Uint8Array(data), 200, {
      'Content-Type': type,
      'Cache-Control': p.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
    });
  };
  return serve;
}
