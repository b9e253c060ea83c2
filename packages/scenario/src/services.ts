// The domain's services as the dev banner and the docs list them: which app serves each one,
// where it listens, and a command that tries it.
import fs from 'node:fs';
import path from 'node:path';
import { certPaths } from './certs.ts';
import type { Service } from './schema.ts';
import { SERVICES } from './schema.ts';
import { hasHostDnsView, type Scenario } from './scenario.ts';

export type AppName = 'dns' | 'mail' | 'http' | 'console';

export const SERVICE_APP: Record<Service, AppName> = {
  dns: 'dns',
  hostdns: 'dns',
  smtp: 'mail',
  submission: 'mail',
  pop3: 'mail',
  pop3s: 'mail',
  imap: 'mail',
  imaps: 'mail',
  http: 'http',
  https: 'http',
  console: 'console',
};

const LABEL: Record<Service, string> = {
  dns: 'DNS (udp+tcp)',
  hostdns: 'DNS for this host',
  smtp: 'SMTP',
  submission: 'SMTP submission',
  pop3: 'POP3',
  pop3s: 'POP3S',
  imap: 'IMAP',
  imaps: 'IMAPS',
  http: 'HTTP',
  https: 'HTTPS (client cert)',
  console: 'Web console',
};

export type Transport = 'tcp' | 'udp';

/** What each service listens on: DNS on UDP and TCP (RFC 1035 §4.2, RFC 7766), the others on TCP. */
export const SERVICE_TRANSPORTS: Record<Service, readonly Transport[]> = {
  dns: ['udp', 'tcp'],
  hostdns: ['udp', 'tcp'],
  smtp: ['tcp'],
  submission: ['tcp'],
  pop3: ['tcp'],
  pop3s: ['tcp'],
  imap: ['tcp'],
  imaps: ['tcp'],
  http: ['tcp'],
  https: ['tcp'],
  console: ['tcp'],
};

/** One socket a service opens: what a readiness probe waits for, and what names it when it never opens. */
export interface ServiceSocket {
  service: Service;
  transport: Transport;
  address: string;
  port: number;
}

/** Every socket the given services open in this scenario (each service on each of its transports). */
export function serviceSockets(s: Scenario, services: readonly Service[] = SERVICES): ServiceSocket[] {
  const all = services.flatMap((service) =>
    SERVICE_TRANSPORTS[service].map((transport) => ({ service, transport, address: s.listen.address, port: s.listen.ports[service] })),
  );
  // One socket serves two services where their ports are the same (the lab's DNS is its host view).
  const seen = new Set<string>();
  return all.filter((k) => {
    const key = `${k.transport} ${k.port}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export interface ServiceRow {
  service: Service;
  app: AppName;
  label: string;
  address: string;
  port: number;
  tryIt: string;
}

/** How to change a service's port, for error messages. */
export function portHint(service: Service): string {
  return `--${service}-port or SSTT_${service.toUpperCase()}_PORT (or ports.${service} in sstt.config.json)`;
}

/** One line for a listen failure (port taken, address missing, no permission). */
export function listenErrorMessage(service: Service, host: string, port: number, err: NodeJS.ErrnoException): string {
  const why =
    err.code === 'EADDRINUSE'
      ? 'is already taken'
      : err.code === 'EACCES'
        ? 'needs root (ports below 1024)'
        : err.code === 'EADDRNOTAVAIL'
          ? 'is on an address this machine does not have'
          : `cannot be opened (${err.code ?? err.message})`;
  return `${service}: port ${port} on ${host} ${why}; change it with ${portHint(service)}`;
}

export function serviceRows(s: Scenario): ServiceRow[] {
  const host = s.listen.address;
  const [u1, u2] = [s.users[0]!, s.users[1] ?? s.users[0]!];
  // Paths inside the repository are shown relative to it (where the user runs the command).
  const rel = (p: string) => {
    const r = path.relative(s.paths.root, p);
    return r.startsWith('..') || path.isAbsolute(r) ? p : r;
  };
  const certs = certPaths(s);
  const client = certs.client(u1.name);
  const p = s.listen.ports;
  const tryIt: Record<Service, string> = {
    dns: `dig @${host} -p ${p.dns} www.${s.domain}`,
    hostdns: `dig @${host} -p ${p.hostdns} www.${s.domain}`,
    smtp: `swaks --server ${host}:${p.smtp} --from ${u1.email} --to ${u2.email}`,
    submission: `swaks --server ${host}:${p.submission} --tls --auth PLAIN --auth-user ${u1.name} --auth-password ${u1.password} --from ${u1.email} --to ${u2.email}`,
    pop3: `curl -u ${u2.name}:${u2.password} pop3://${host}:${p.pop3}/`,
    pop3s: `curl --cacert ${rel(certs.ca.cert)} -u ${u2.name}:${u2.password} pop3s://${host}:${p.pop3s}/`,
    imap: `curl -u ${u2.name}:${u2.password} 'imap://${host}:${p.imap}/INBOX?ALL'`,
    imaps: `curl --cacert ${rel(certs.ca.cert)} -u ${u2.name}:${u2.password} 'imaps://${host}:${p.imaps}/INBOX?ALL'`,
    http: `curl -v http://${host}:${p.http}/`,
    https: `curl --cacert ${rel(certs.ca.cert)} --cert ${rel(client.cert)} --key ${rel(client.key)} https://${host}:${p.https}/`,
    // The lab profile's console is reachable from the LAN, so it asks for a password.
    console: `open http://${host}:${p.console}/${s.console.password ? ' (password: console.password of sstt.config.json)' : ''}`,
  };
  // With equal ports the DNS app has one listener and one view (the lab profile): one row.
  const services = SERVICES.filter((service) => service !== 'hostdns' || hasHostDnsView(s));
  return services.map((service) => ({
    service,
    app: SERVICE_APP[service],
    label: LABEL[service],
    address: host,
    port: p[service],
    tryIt: tryIt[service],
  }));
}

/** The apps present in this checkout (an app that does not exist yet is simply not started). */
export function presentApps(s: Scenario): Set<AppName> {
  const apps = new Set<AppName>();
  for (const app of ['dns', 'mail', 'http', 'console'] as const) {
    if (fs.existsSync(path.join(s.paths.root, 'apps', app, 'package.json'))) apps.add(app);
  }
  return apps;
}

/** What `npx sstt trust` and `npx sstt resolve` have done on this machine for this ID (their state file says). */
export interface HostSetup {
  trusted: boolean;
  resolved: boolean;
}

/**
 * The hint `npm run dev` prints while this machine cannot yet reach the domain by name with trust:
 * the command(s) still missing, empty once both were run. Only in the dev profile: the lab
 * profile runs on the lab's own hosts (or the lab's namespaces), whose clients use its DNS.
 */
export function hostSetupHint(s: Scenario, setup: HostSetup): string {
  if (s.profile !== 'dev') return '';
  const u = s.users[0]!;
  const https = `https://www.${s.domain}${s.listen.ports.https === 443 ? '' : `:${s.listen.ports.https}`}/`;
  const missing = [
    ...(setup.resolved ? [] : [`sudo npx sstt resolve (this machine resolves the domain's names to the dev servers)`]),
    ...(setup.trusted ? [] : [`sudo npx sstt trust --client ${u.name} (its browsers, curl, Thunderbird trust the lab CA)`]),
  ];
  if (missing.length === 0) return '';
  return [`To open ${https} by name in a browser on this machine: ${missing.join('; ')}.`, '  Undone by npx sstt resolve --undo and npx sstt untrust.'].join(
    '\n',
  );
}

/** The table `npm run dev` prints (and, given what this machine has set up, the hint above). */
export function bannerText(s: Scenario, apps: Set<AppName> = presentApps(s), setup?: HostSetup): string {
  const rows = serviceRows(s).filter((r) => apps.has(r.app));
  const lines = [`sstt: the domain ${s.domain} (ID ${s.id}, profile ${s.profile})`, ''];
  if (rows.length === 0) {
    lines.push('No service apps exist yet in apps/: nothing to start.');
    return lines.join('\n');
  }
  const w1 = Math.max(7, ...rows.map((r) => r.label.length));
  const w2 = Math.max(7, ...rows.map((r) => `${r.address}:${r.port}`.length));
  lines.push(`${'SERVICE'.padEnd(w1)}  ${'ADDRESS'.padEnd(w2)}  TRY IT`);
  for (const r of rows) lines.push(`${r.label.padEnd(w1)}  ${`${r.address}:${r.port}`.padEnd(w2)}  ${r.tryIt}`);
  if (apps.has('mail')) {
    const u = s.users[0]!;
    lines.push(
      '',
      `Thunderbird (import certs/ca/ca.crt under Authorities first): email ${u.email}, password ${u.password}, username ${u.name};`,
      `  incoming IMAP ${s.listen.address} port ${s.listen.ports.imap} (security None or STARTTLS) or IMAPS port ${s.listen.ports.imaps} (SSL/TLS), authentication "Normal password";`,
      `  or POP3 ${s.listen.address} port ${s.listen.ports.pop3} (security None or STARTTLS) or POP3S port ${s.listen.ports.pop3s} (SSL/TLS);`,
      `  outgoing SMTP ${s.listen.address} port ${s.listen.ports.submission} (STARTTLS, "Normal password") or port ${s.listen.ports.smtp} (None, "No authentication").`,
    );
  }
  const hint = setup && apps.has('http') ? hostSetupHint(s, setup) : '';
  if (hint) lines.push('', hint);
  return lines.join('\n');
}
