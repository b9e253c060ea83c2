// The node:http baseline of the benchmark: Node's own HTTP server answering the same files from
// memory (preloaded, keep-alive), as the project's reference measurement did.
// Usage: node node-http.mjs <port> <dir> [requests per connection]
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

const [portArg, root, maxRequests] = process.argv.slice(2);
const TYPES = { '.html': 'text/html; charset=utf-8', '.zip': 'application/zip' };
const files = new Map();
for (const f of fs.readdirSync(root)) {
  const full = path.join(root, f);
  if (fs.statSync(full).isFile()) files.set(`/${f}`, { body: fs.readFileSync(full), type: TYPES[path.extname(f)] ?? 'application/octet-stream' });
}
const server = http.createServer((req, res) => {
  const e = files.get(req.url);
  if (!e) {
    res.writeHead(404, { 'Content-Length': 0 });
    res.end();
    return;
  }
  res.writeHead(200, { 'Content-Type': e.type, 'Content-Length': e.body.length });
  res.end(req.method === 'HEAD' ? undefined : e.body);
});
server.keepAliveTimeout = 10_000;
// Node closes a connection after this many requests (0: no limit, its default).
if (maxRequests) server.maxRequestsPerSocket = Number(maxRequests);
server.listen(Number(portArg), '127.0.0.1', () => console.log(`node:http on ${portArg}`));
