// The shape of `sstt.config.json` (and of the overrides that environment and flags produce).
// One zod schema gives the TypeScript type, the validation with precise messages and the
// JSON Schema that editors use to complete the file (`npm run schema -w @sstt/scenario`).
import { z } from 'zod';

export const PROFILES = ['dev', 'lab'] as const;
export type Profile = (typeof PROFILES)[number];

/**
 * Every listening service of the domain, in the order the banner prints them. `hostdns` is the DNS
 * app's second view, for this machine's own resolver (`npx sstt resolve`): the zone with every name at
 * the address the dev servers listen on, while `dns` keeps the lab's addresses the report shows.
 */
export const SERVICES = ['dns', 'hostdns', 'smtp', 'submission', 'pop3', 'pop3s', 'imap', 'imaps', 'http', 'https', 'console'] as const;
export type Service = (typeof SERVICES)[number];

/** The protocols whose sessions the apps can publish to the console's journal. */
export const EVENT_PROTOCOLS = ['smtp', 'submission', 'pop3', 'pop3s', 'imap', 'imaps', 'http', 'https', 'dns'] as const;
export type EventProtocol = (typeof EVENT_PROTOCOLS)[number];

const PORT = 'a port number from 0 to 65535 (0 = any free port)';
const port = z.number({ error: PORT }).int({ error: PORT }).min(0, { error: PORT }).max(65535, { error: PORT });
const ipv4 = z.ipv4({ error: 'an IPv4 address such as 127.0.0.1' });
/** A share of a cap, in percent (1-100), described for the JSON Schema. */
const percent = (description: string) => z.number().int().min(1).max(100).optional().describe(description);

const hostPort = z.string().regex(/^(\d{1,3}\.){3}\d{1,3}(:\d{1,5})?$|^\[[0-9a-fA-F:]+\](:\d{1,5})?$|^[0-9a-fA-F:]+$/, {
  message: 'an IP address, optionally with :port (IPv6 as [addr]:port)',
});

export const userSchema = z
  .object({
    name: z.string().regex(/^[a-z][a-z0-9._-]{0,63}$/, { message: 'a lower-case login name (letters, digits, . _ -)' }),
    password: z.string().min(1),
    firstName: z.string().min(1).optional(),
  })
  .strict();

/** A duration in milliseconds between min and max; the error says so in words. */
const ms = (min: number, max: number) => {
  const error = `a whole number of milliseconds from ${min} to ${max}`;
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
};
const count = (max: number) => {
  const error = `a whole number from 1 to ${max}`;
  return z.number({ error }).int({ error }).min(1, { error }).max(max, { error });
};

/** The connection rate per client address of every TCP listener (@sstt/runtime connection-limits.ts). */
const connectionRate = {
  connectionRatePerSecond: z
    .number()
    .min(0)
    .max(1_000_000)
    .optional()
    .describe(
      'new connections per second from one client address, sustained, on one listener; over it a connection is closed at accept (default 1000; 0: no limit)',
    ),
  connectionBurst: count(1_000_000).optional().describe('new connections from one client address at once, on one listener (default 1000)'),
};

/** `mail.limits`: every key overrides one of MAIL_LIMITS (scenario.ts), where the defaults are explained. */
export const mailLimitsSchema = z
  .object({
    maxConnections: count(100_000).optional().describe('simultaneous connections on one mail listener'),
    maxConnectionsPerAddress: count(100_000).optional().describe('simultaneous connections from one client address on one listener'),
    smtpIdleTimeoutMs: ms(10, 3_600_000).optional().describe('SMTP: waiting for the next command (RFC 5321 §4.5.3.2.7: 5 min)'),
    pop3IdleTimeoutMs: ms(10, 3_600_000).optional().describe('POP3: autologout (RFC 1939 §3: at least 10 min)'),
    commandTimeoutMs: ms(10, 3_600_000).optional().describe('a command line or TLS handshake, once begun, must be complete within this'),
    pressureTimeoutMs: ms(10, 3_600_000).optional().describe('what the idle and command timeouts shrink to on a full listener'),
    shedLogIntervalMs: ms(10, 3_600_000).optional().describe('one log line per interval says how many connections were shed, refused or timed out'),
    authPenaltyMs: ms(0, 60_000).optional().describe("delay after the first failed login, doubled per failure (dovecot's auth penalty: 2 s)"),
    authPenaltyMaxMs: ms(0, 600_000).optional().describe('the longest login penalty (dovecot: 15 s)'),
    ...connectionRate,
  })
  .strict();

const SELECTOR = 'a DNS label: letters, digits and inner hyphens (RFC 6376 §3.1)';
const selector = z.string().regex(/^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/, { message: SELECTOR });

/** `mail.auth`: mail authentication (scenario.ts resolves the defaults; mail-auth.ts the records). */
export const mailAuthSchema = z
  .object({
    verify: z
      .boolean()
      .optional()
      .describe('check SPF, DKIM, DMARC and ARC of every message received (SMTP and submission) into an Authentication-Results header (default true)'),
    sign: z.boolean().optional().describe('DKIM-sign the mail of authenticated users and of the relay networks, with both selectors (default true)'),
    enforce: z
      .boolean()
      .optional()
      .describe(
        "apply a failing sender domain's DMARC policy to mail from outside: reject -> 550 5.7.1, quarantine -> the Junk folder (default false: record only)",
      ),
    dmarcPolicy: z.enum(['none', 'quarantine', 'reject']).optional().describe("the p= of the domain's own _dmarc record (default reject)"),
    selectors: z
      .object({
        rsa: selector.optional().describe('selector of the RSA 2048 key (default rsa)'),
        ed25519: selector.optional().describe('selector of the Ed25519 key, RFC 8463 (default ed25519)'),
      })
      .strict()
      .optional()
      .describe('DKIM selectors (a selector renamed gets a new key from the pki)'),
  })
  .strict();

export const configSchema = z
  .object({
    $schema: z.string().optional(),
    id: z
      .string()
      .regex(/^\d{4}$/, { message: 'four digits (the last four of the DNI)' })
      .optional(),
    profile: z.enum(PROFILES).optional(),
    listen: ipv4.optional().describe('address every service listens on (dev: 127.0.0.1, lab: the server address)'),
    ports: z
      .object(Object.fromEntries(SERVICES.map((s) => [s, port.optional()])) as Record<Service, z.ZodOptional<typeof port>>)
      .strict()
      .optional(),
    users: z.array(userSchema).min(1).optional(),
    dns: z
      .object({
        forwarders: z.array(hostPort).optional().describe('upstream resolvers for names outside our zones'),
        mapToLoopback: z.boolean().optional().describe('answer 127.0.0.1 for the server and client names (local use)'),
        allowQuery: z.array(z.string()).optional().describe('CIDR blocks allowed to query'),
        limits: z
          .object({
            maxTcpClients: z.number().int().min(1).optional().describe('DNS over TCP connections in total (default 150, BIND tcp-clients)'),
            maxTcpClientsPerAddress: z.number().int().min(1).optional().describe('DNS over TCP connections per client address (default 50)'),
            tcpIdleTimeoutMs: z.number().int().min(100).optional().describe('a TCP connection without a query for this long is closed (default 30000)'),
            maxTcpQueries: z.number().int().min(1).optional().describe('queries answered on one TCP connection before it is closed (default 10000)'),
            pressurePercent: percent('from this share of maxTcpClients on, pressureTcpIdleTimeoutMs applies (default 75)'),
            pressureTcpIdleTimeoutMs: z.number().int().min(100).optional().describe('TCP idle timeout under pressure (default 2000)'),
            ...connectionRate,
          })
          .strict()
          .optional()
          .describe('overrides of the DNS server limits (apps/dns/src/server.ts)'),
      })
      .strict()
      .optional(),
    http: z
      .object({
        root: z.string().min(1).optional(),
        idleTimeoutSeconds: z.number().int().min(1).max(3600).optional(),
        maxRequests: z.number().int().min(1).optional(),
        formEmail: z.string().min(3).optional(),
        limits: z
          .object({
            maxConnections: z.number().int().min(1).optional().describe('HTTP and HTTPS connections in total (default 1024)'),
            maxConnectionsPerClient: z.number().int().min(1).optional().describe('HTTP and HTTPS connections per client address (default 256)'),
            headerTimeoutMs: z.number().int().min(100).optional().describe('time to send a whole request head once started (default 5000)'),
            pressurePercent: percent('from this share of maxConnections on, the timeouts below apply (default 75)'),
            pressureHeaderTimeoutMs: z.number().int().min(100).optional().describe('header timeout under pressure (default 2000)'),
            pressureIdleTimeoutMs: z.number().int().min(100).optional().describe('keep-alive idle timeout under pressure (default 1000)'),
            ...connectionRate,
          })
          .strict()
          .optional()
          .describe('overrides of the HTTP server limits (apps/http/src/server.ts)'),
      })
      .strict()
      .optional(),
    mail: z
      .object({
        maxSize: z.number().int().min(1024).optional(),
        plaintextAuth: z.boolean().optional(),
        smarthost: hostPort.optional(),
        relayNets: z.array(z.string()).optional(),
        postmaster: z
          .string()
          .regex(/^[a-z][a-z0-9._-]{0,63}$/, { message: 'a lower-case login name (letters, digits, . _ -)' })
          .optional()
          .describe('the user who gets the mail for postmaster (RFC 5321 §4.5.1); default: the first user'),
        limits: mailLimitsSchema.optional().describe('connection limits and login penalties of the mail listeners (each one per listener)'),
        auth: mailAuthSchema
          .optional()
          .describe('SPF, DKIM and DMARC: what the zone publishes, what is signed, what is checked (README "Mail authentication")'),
      })
      .strict()
      .optional(),
    pki: z
      .object({
        p12Password: z.string().min(1).optional(),
        keySize: z.union([z.literal(2048), z.literal(3072), z.literal(4096)]).optional(),
        days: z.number().int().min(1).max(3650).optional(),
      })
      .strict()
      .optional(),
    console: z
      .object({
        password: z.string().min(1).optional().describe('password of the web console (HTTP Basic, any user name); required in the lab profile'),
        events: z
          .array(z.enum([...EVENT_PROTOCOLS, 'none']))
          .optional()
          .describe('protocols whose sessions the apps publish to the console (default: all; ["none"]: none)'),
        journalBytes: z.number().int().min(65536).optional().describe("size cap of each app's session journal file in bytes"),
        limits: z
          .object({
            maxConnections: count(100_000).optional().describe('connections to the console in total (default 256)'),
            maxConnectionsPerAddress: count(100_000).optional().describe('connections to the console from one client address (default 32)'),
            maxEventStreamsPerAddress: count(1000)
              .optional()
              .describe('open event streams (/api/v1/events) from one client address; one more is answered 429 (default 8)'),
          })
          .strict()
          .optional()
          .describe('overrides of the console limits (apps/console/src/server.ts)'),
      })
      .strict()
      .optional(),
    paths: z
      .object({
        certs: z.string().min(1).optional(),
        data: z.string().min(1).optional(),
        logs: z.string().min(1).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export type ConfigInput = z.infer<typeof configSchema>;

export function configJsonSchema(): object {
  return z.toJSONSchema(configSchema, { target: 'draft-7', io: 'input' });
}
