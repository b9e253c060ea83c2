// The resolved scenario: everything an app, a generator or a test needs to know about the lab,
// derived from the student ID and the profile. This is the only file that spells the lab's
// domain pattern, addresses and ports.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { certPaths } from './certs.ts';
import { ConfigError, showValue } from './errors.ts';
import { DKIM_SELECTORS, type DkimAlgorithm, type DkimKey, type DmarcPolicy } from './mail-auth.ts';
import { EVENT_PROTOCOLS, type ConfigInput, type EventProtocol, type Profile, type Service } from './schema.ts';

export const DEFAULT_ID = '9721';

/** The lab network of the seed (VirtualBox host-only network). */
export const LAB_NETWORK = {
  lan: '192.168.56.0/24',
  server: '192.168.56.102',
  client: '192.168.56.101',
  /** The host side of VirtualBox's host-only adapter: the lab on one machine puts its stand-in
   * for the outside world (a resolver answering the names the report asks outside the domain) here. */
  gateway: '192.168.56.1',
  /** Reverse zone of the LAN (RFC 1035 §3.5). */
  reverseZone: '56.168.192.in-addr.arpa',
} as const;

/** Short host name of the server machine, as its SMTP greeting shows it in the seed ("220 server ESMTP"). */
export const SERVER_HOSTNAME = 'server';

/**
 * The university's mail and DNS domain: exim4 relays to it from the LAN (the report, "SMTP": mail
 * may be relayed "a usuarios ... del correo de la Universidad de Murcia"), and the lab's stand-in
 * for the outside world serves its names (www.um.es).
 */
export const UNIVERSITY_DOMAIN = 'um.es';

/** The university's resolvers that the lab's BIND forwards to (seed, named.conf.options). */
export const LAB_FORWARDERS = ['155.54.1.1', '155.54.1.2'] as const;

/**
 * The ports of each profile. In the lab profile `hostdns` is `dns`'s port: the zone's addresses are
 * where the servers listen, so the host's view is the one view (a single listener).
 */
export const PORTS: Record<Profile, Record<Service, number>> = {
  dev: { dns: 1053, hostdns: 1054, smtp: 2525, submission: 5870, pop3: 1110, pop3s: 1995, imap: 1143, imaps: 1993, http: 8080, https: 8443, console: 8025 },
  lab: { dns: 53, hostdns: 53, smtp: 25, submission: 587, pop3: 110, pop3s: 995, imap: 143, imaps: 993, http: 80, https: 443, console: 8025 },
};

/**
 * The reference lab (`sstt-lab --reference`): Apache's plain vhost moves here, since the report's
 * plain HTTP (port 80, the cookie counter) is web_sstt's, which sstt's apps/http keeps.
 */
export const REFERENCE_APACHE_HTTP_PORT = 8080;

export type HostRole = 'server' | 'client';
/** The zone's names and which machine each one is (SCENARIO.md, "DNS zone"). */
export const ZONE_NAMES: ReadonlyArray<{ label: string; role: HostRole }> = [
  { label: 'dns', role: 'server' },
  { label: 'www', role: 'server' },
  { label: 'web', role: 'server' },
  { label: 'smtp', role: 'server' },
  { label: 'pop', role: 'server' },
  { label: 'mail', role: 'server' },
  { label: 'servidor', role: 'server' },
  { label: 'cliente', role: 'client' },
];

/**
 * Connection limits and login penalties of each mail listener (SMTP, submission, POP3, POP3S),
 * the defaults of `mail.limits`. At the connection cap a newcomer is not refused: the
 * connection that costs most and gives least is closed to make room (packages/runtime connection-limits.ts).
 */
export const MAIL_LIMITS = {
  /** Simultaneous connections on one listener (smtp-server's and our POP3's former fixed cap). */
  maxConnections: 1000,
  /** From one client address, on one listener (postfix's smtpd_client_connection_count_limit: 50). */
  maxConnectionsPerAddress: 50,
  /** SMTP server timeout waiting for the next command (RFC 5321 §4.5.3.2.7: 5 minutes). */
  smtpIdleTimeoutMs: 5 * 60_000,
  /** POP3 autologout (RFC 1939 §3: "at least 10 minutes"). */
  pop3IdleTimeoutMs: 10 * 60_000,
  /** A command line (or a TLS handshake) that has begun must be complete within this (a slowloris). */
  commandTimeoutMs: 60_000,
  /**
   * What the idle and command timeouts shrink to when a listener is full; they shrink linearly
   * from half full (postfix's stress-adaptive smtpd_timeout: 300 s, 10 s under stress).
   */
  pressureTimeoutMs: 10_000,
  /** One log line per interval counts the connections shed, refused and timed out. */
  shedLogIntervalMs: 10_000,
  /** Delay after the first failed login, doubled per failure (dovecot's AUTH_PENALTY_INIT_SECS: 2). */
  authPenaltyMs: 2000,
  /** The longest login penalty (dovecot's AUTH_PENALTY_MAX_SECS: 15). */
  authPenaltyMaxMs: 15_000,
} as const;

/** A listener's connection rate per client address (@sstt/runtime connection-limits.ts); what is missing takes its named constants. */
export interface ConnectionRateLimits {
  /** New connections per second per address, sustained (CONNECTION_RATE_PER_SECOND); 0: no rate limit. */
  connectionRatePerSecond?: number;
  /** New connections per address at once (CONNECTION_BURST). */
  connectionBurst?: number;
}

export type MailLimits = { -readonly [K in keyof typeof MAIL_LIMITS]: number } & ConnectionRateLimits;

/** `mail.auth` resolved: README "Mail authentication". */
export interface MailAuth {
  /** Check SPF, DKIM, DMARC and ARC of mail received, into an Authentication-Results header. */
  verify: boolean;
  /** DKIM-sign the mail of authenticated users and of the relay networks. */
  sign: boolean;
  /** Apply a failing sender domain's DMARC policy to mail from outside (false: record only). */
  enforce: boolean;
  /** Our authserv-id (RFC 8601 §2.5): the mail host's name, as in our Received lines. */
  authservId: string;
  /** The p= of the domain's own DMARC record. */
  dmarcPolicy: DmarcPolicy;
  /** One key per algorithm, RSA first (the signature most verifiers check). */
  dkim: DkimKey[];
}

export interface User {
  /** Login name, e.g. nombre1_9721. */
  name: string;
  password: string;
  /** First name as the lab puts it in the client certificate's DN. */
  firstName: string;
  /** name@domain */
  email: string;
}

export interface Endpoint {
  host: string;
  port: number;
}

export interface Scenario {
  id: string;
  /** sstt<ID>.org */
  domain: string;
  profile: Profile;
  network: typeof LAB_NETWORK;
  hostname: string;
  /** Fully qualified names of the zone with the address each one has in the lab. */
  names: Array<{ label: string; fqdn: string; role: HostRole; address: string }>;
  users: User[];
  listen: { address: string; ports: Record<Service, number> };
  dns: {
    /** Name servers of our zones. */
    nameServer: string;
    /** Mail exchanger with its preference (MX 10 smtp). */
    mx: { preference: number; exchange: string };
    forwarders: Endpoint[];
    mapToLoopback: boolean;
    allowQuery: string[];
    /** Overrides of the DNS server's limits; what is missing takes apps/dns's named constants. */
    limits: {
      maxTcpClients?: number;
      maxTcpClientsPerAddress?: number;
      tcpIdleTimeoutMs?: number;
      maxTcpQueries?: number;
      pressurePercent?: number;
      pressureTcpIdleTimeoutMs?: number;
    } & ConnectionRateLimits;
  };
  mail: {
    maxSize: number;
    plaintextAuth: boolean;
    smarthost?: Endpoint;
    relayNets: string[];
    /** The user who gets the mail for postmaster (RFC 5321 §4.5.1): the first user by default. */
    postmaster: string;
    limits: MailLimits;
    auth: MailAuth;
  };
  http: {
    root: string;
    idleTimeoutSeconds: number;
    maxRequests: number;
    formEmail?: string;
    /** The lab's cookie: 2 minutes life, the tenth access refused. */
    cookie: { name: string; maxAgeSeconds: number; limit: number };
    /** Overrides of the HTTP server's limits; what is missing takes apps/http's named constants. */
    limits: {
      maxConnections?: number;
      maxConnectionsPerClient?: number;
      headerTimeoutMs?: number;
      pressurePercent?: number;
      pressureHeaderTimeoutMs?: number;
      pressureIdleTimeoutMs?: number;
    } & ConnectionRateLimits;
  };
  pki: { p12Password: string; keySize: 2048 | 3072 | 4096; days: number };
  console: {
    /** HTTP Basic password of the web console; undefined = open (loopback in dev). */
    password?: string;
    /** Protocols whose sessions the apps publish to the journal the console reads. */
    events: EventProtocol[];
    /** Size cap of each app's journal file (one rotated file is kept beside it). */
    journalBytes: number;
    /** Overrides of the console's limits; what is missing takes apps/console's named constants. */
    limits: {
      maxConnections?: number;
      maxConnectionsPerAddress?: number;
      maxEventStreamsPerAddress?: number;
    };
  };
  paths: {
    /** The repository root. */
    root: string;
    certs: string;
    /** Runtime data (mail). */
    data: string;
    /** The session journals the apps write and the console reads. */
    events: string;
    mail: string;
    logs: string;
    infra: string;
  };
}

/**
 * The repository root, unless SSTT_ROOT says otherwise: the nearest folder above this module
 * whose package.json declares the workspaces. Walking up (rather than a fixed `../../../`) finds
 * it from the TypeScript source and from an app's bundle in `apps/<app>/dist/` alike.
 */
export function repoRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SSTT_ROOT) return path.resolve(env.SSTT_ROOT);
  cachedRoot ??= findRoot(path.dirname(fileURLToPath(import.meta.url)));
  return cachedRoot;
}

let cachedRoot: string | undefined;

function findRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { workspaces?: unknown };
      if (pkg.workspaces) return dir;
    } catch {
      // no package.json here
    }
    if (path.dirname(dir) === dir) throw new Error(`no package.json with workspaces above ${from}: set SSTT_ROOT to the sstt checkout`);
  }
}

export function domainFor(id: string): string {
  return `sstt${id}.org`;
}

/** The ID whose domain this is (the inverse of domainFor), or undefined for a name of another pattern. */
export function idOfDomain(domain: string): string | undefined {
  const id = /^sstt(\d{4})\.org$/i.exec(domain)?.[1];
  return id !== undefined && domainFor(id) === domain.toLowerCase() ? id : undefined;
}

export function defaultUsers(id: string): Array<{ name: string; password: string; firstName: string }> {
  // The seed's users, whose password equals the user name.
  return ['nombre1', 'nombre2'].map((first) => ({ name: `${first}_${id}`, password: `${first}_${id}`, firstName: first }));
}

/** Parses "1.2.3.4", "1.2.3.4:5353", "[::1]:53" or "::1" into an endpoint (port 53 by default). */
export function parseEndpoint(text: string, defaultPort = 53): Endpoint {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (v6) return { host: v6[1]!, port: v6[2] ? Number(v6[2]) : defaultPort };
  if (text.includes(':') && text.split(':').length > 2) return { host: text, port: defaultPort };
  const [host, p] = text.split(':');
  return { host: host!, port: p ? Number(p) : defaultPort };
}

/** The nameservers of a resolv.conf text, except the ones that would be ourselves. */
export function resolvConfForwarders(text: string, self: Endpoint): Endpoint[] {
  const out: Endpoint[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (!m) continue;
    const ep = { host: m[1]!, port: 53 };
    if (ep.port === self.port && (ep.host === self.host || self.host === '0.0.0.0')) continue;
    out.push(ep);
  }
  return out;
}

export interface ResolveOptions {
  /** Text of /etc/resolv.conf, read only by the dev profile when no forwarders are configured. */
  resolvConf?: () => string;
  /** The p= of the DKIM public key in a file (undefined when there is none); without it no key is read. */
  dkimPublicKey?: (file: string, algorithm: DkimAlgorithm) => string | undefined;
  env?: NodeJS.ProcessEnv;
}

/** Builds the full scenario from a validated, merged configuration. */
export function resolveScenario(config: ConfigInput, opts: ResolveOptions = {}): Scenario {
  const id = config.id ?? DEFAULT_ID;
  const profile: Profile = config.profile ?? 'dev';
  const domain = domainFor(id);
  const root = repoRoot(opts.env);
  const fromRoot = (p: string) => path.resolve(root, p);
  const address = config.listen ?? (profile === 'dev' ? '127.0.0.1' : LAB_NETWORK.server);
  const ports = { ...PORTS[profile], ...(config.ports ?? {}) } as Record<Service, number>;
  const mapToLoopback = config.dns?.mapToLoopback ?? false;
  const hostAddress = (role: HostRole) => (mapToLoopback ? '127.0.0.1' : role === 'server' ? LAB_NETWORK.server : LAB_NETWORK.client);

  let forwarders: Endpoint[];
  if (config.dns?.forwarders) forwarders = config.dns.forwarders.map((f) => parseEndpoint(f));
  else if (profile === 'lab') forwarders = LAB_FORWARDERS.map((host) => ({ host, port: 53 }));
  else forwarders = resolvConfForwarders(safeRead(opts.resolvConf), { host: address, port: ports.dns });

  const data = fromRoot(config.paths?.data ?? 'var');
  const users = (config.users ?? defaultUsers(id)).map((u) => ({
    name: u.name,
    password: u.password,
    firstName: u.firstName ?? u.name.replace(/_\d+$/, ''),
    email: `${u.name}@${domain}`,
  }));
  const postmaster = config.mail?.postmaster ?? users[0]!.name;
  if (!users.some((u) => u.name === postmaster)) {
    throw new ConfigError('configuration', 'mail.postmaster', `one of the users (${users.map((u) => u.name).join(', ')})`, showValue(postmaster));
  }
  const loopback = ['127.0.0.0/8', '::1/128'];
  const selectors = { ...DKIM_SELECTORS, ...config.mail?.auth?.selectors };
  const s: Scenario = {
    id,
    domain,
    profile,
    network: LAB_NETWORK,
    hostname: SERVER_HOSTNAME,
    names: ZONE_NAMES.map(({ label, role }) => ({ label, role, fqdn: `${label}.${domain}`, address: hostAddress(role) })),
    users,
    listen: { address, ports },
    dns: {
      nameServer: `dns.${domain}`,
      mx: { preference: 10, exchange: `smtp.${domain}` },
      forwarders,
      mapToLoopback,
      allowQuery: config.dns?.allowQuery ?? [LAB_NETWORK.lan, ...loopback],
      limits: { ...config.dns?.limits },
    },
    mail: {
      maxSize: config.mail?.maxSize ?? 52428800,
      plaintextAuth: config.mail?.plaintextAuth ?? true,
      ...(config.mail?.smarthost ? { smarthost: parseEndpoint(config.mail.smarthost, 25) } : {}),
      // Relaying: the LAN in the lab (exim's relay_from_hosts); only this machine's own
      // loopback address in dev, so a second loopback address (127.0.0.2) is "outside".
      relayNets: config.mail?.relayNets ?? (profile === 'lab' ? [LAB_NETWORK.lan, '127.0.0.1/32'] : ['127.0.0.1/32', '::1/128']),
      postmaster,
      limits: { ...MAIL_LIMITS, ...config.mail?.limits },
      auth: {
        verify: config.mail?.auth?.verify ?? true,
        sign: config.mail?.auth?.sign ?? true,
        enforce: config.mail?.auth?.enforce ?? false,
        authservId: `${SERVER_HOSTNAME}.${domain}`,
        dmarcPolicy: config.mail?.auth?.dmarcPolicy ?? 'reject',
        dkim: [
          { selector: selectors.rsa, algorithm: 'rsa-sha256' },
          { selector: selectors.ed25519, algorithm: 'ed25519-sha256' },
        ],
      },
    },
    http: {
      root: config.http?.root ? fromRoot(config.http.root) : path.join(root, 'apps', 'http', 'www'),
      idleTimeoutSeconds: config.http?.idleTimeoutSeconds ?? 10,
      maxRequests: config.http?.maxRequests ?? 100,
      ...(config.http?.formEmail ? { formEmail: config.http.formEmail } : {}),
      cookie: { name: 'cookie_counter', maxAgeSeconds: 120, limit: 10 },
      limits: { ...config.http?.limits },
    },
    pki: {
      p12Password: config.pki?.p12Password ?? `sstt${id}`,
      keySize: config.pki?.keySize ?? 2048,
      days: config.pki?.days ?? 365,
    },
    console: {
      ...(config.console?.password ? { password: config.console.password } : {}),
      events: ((config.console?.events ?? EVENT_PROTOCOLS) as readonly string[]).filter((p): p is EventProtocol => p !== 'none'),
      journalBytes: config.console?.journalBytes ?? 4 * 1024 * 1024,
      limits: { ...config.console?.limits },
    },
    paths: {
      root,
      events: path.join(data, 'events'),
      certs: fromRoot(config.paths?.certs ?? 'certs'),
      data,
      mail: path.join(data, 'mail'),
      logs: config.paths?.logs ? fromRoot(config.paths.logs) : path.join(data, 'log'),
      infra: path.join(root, 'infra'),
    },
  };
  if (selectors.rsa === selectors.ed25519) throw new ConfigError('configuration', 'mail.auth.selectors', 'two different selectors', showValue(selectors.rsa));
  // The public halves packages/pki wrote (certs/dkim): the zone publishes them.
  return opts.dkimPublicKey ? withDkimPublicKeys(s, opts.dkimPublicKey) : s;
}

/**
 * The scenario with the public half of each DKIM key read by `read` from the file packages/pki
 * writes (certs/dkim/<selector>.pub); a key without one stays unpublished. For a program that
 * minted the keys after it loaded the scenario (the lab's `up`).
 */
export function withDkimPublicKeys(s: Scenario, read: NonNullable<ResolveOptions['dkimPublicKey']>): Scenario {
  const dkim = s.mail.auth.dkim.map((k) => {
    const publicKey = read(certPaths(s).dkim(k.selector).pub, k.algorithm);
    return publicKey ? { ...k, publicKey } : k;
  });
  return { ...s, mail: { ...s.mail, auth: { ...s.mail.auth, dkim } } };
}

/**
 * The scenario as this machine's own resolver sees it (the DNS app's `hostdns` view, the /etc/hosts
 * block of `npx sstt resolve`): in the dev profile every name of the zone at the address the dev
 * servers listen on (127.0.0.1 when they listen on every address), so a browser that looks up
 * www.<domain> reaches them; the lab's 192.168.56.x stay in the `dns` view, as the report shows them.
 * In the lab profile the names already are where the servers listen.
 */
export function hostView(s: Scenario): Scenario {
  if (s.profile === 'lab') return s;
  const address = s.listen.address === '0.0.0.0' ? '127.0.0.1' : s.listen.address;
  return { ...s, names: s.names.map((n) => ({ ...n, address })) };
}

/** True when the DNS app serves the host's view on a listener of its own (the ports differ). */
export function hasHostDnsView(s: Scenario): boolean {
  return s.listen.ports.hostdns !== s.listen.ports.dns;
}

/** A user's Maildir (exim's `~/Maildir`, dovecot's `mail_location = maildir:~/Maildir`). */
export function maildirOf(s: Scenario, user: string): string {
  return path.join(s.paths.mail, user, 'Maildir');
}

function safeRead(read?: () => string): string {
  try {
    return read ? read() : '';
  } catch {
    return '';
  }
}
