// What other workspaces may use of the DNS app (the console's tests start it beside the console):
// the server factory. The app itself is src/main.ts.
export { createDnsServer, type DnsServer, type DnsServerOptions } from './server.ts';
