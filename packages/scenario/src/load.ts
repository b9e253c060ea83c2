// Loading the scenario: the optional sstt.config.json, then the environment, then the app's
// command-line flags; later wins. Each source is validated on its own so that an error names
// the exact place the bad value came from.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { z } from 'zod';
import { ConfigError, showValue } from './errors.ts';
import { readDkimPublicKey } from './mail-auth.ts';
import { configSchema, SERVICES, type ConfigInput } from './schema.ts';
import { repoRoot, resolveScenario, type Scenario } from './scenario.ts';

export const CONFIG_FILE = 'sstt.config.json';

type Json = Record<string, unknown>;
/** How one source names a key path: `ports.dns` is `SSTT_DNS_PORT` in the environment. */
type KeyNamer = (keyPath: string) => string;

/** Environment variables and the config key each one sets. */
const ENV_KEYS: Record<string, { key: string; kind: 'string' | 'number' | 'boolean' | 'list' }> = {
  SSTT_ID: { key: 'id', kind: 'string' },
  SSTT_PROFILE: { key: 'profile', kind: 'string' },
  SSTT_LISTEN: { key: 'listen', kind: 'string' },
  ...Object.fromEntries(SERVICES.map((s) => [`SSTT_${s.toUpperCase()}_PORT`, { key: `ports.${s}`, kind: 'number' as const }])),
  SSTT_DNS_FORWARDERS: { key: 'dns.forwarders', kind: 'list' },
  SSTT_DNS_MAP_TO_LOOPBACK: { key: 'dns.mapToLoopback', kind: 'boolean' },
  SSTT_HTTP_ROOT: { key: 'http.root', kind: 'string' },
  SSTT_HTTP_IDLE_TIMEOUT: { key: 'http.idleTimeoutSeconds', kind: 'number' },
  SSTT_HTTP_FORM_EMAIL: { key: 'http.formEmail', kind: 'string' },
  SSTT_MAIL_PLAINTEXT_AUTH: { key: 'mail.plaintextAuth', kind: 'boolean' },
  SSTT_MAIL_SMARTHOST: { key: 'mail.smarthost', kind: 'string' },
  SSTT_MAIL_AUTH_VERIFY: { key: 'mail.auth.verify', kind: 'boolean' },
  SSTT_MAIL_AUTH_SIGN: { key: 'mail.auth.sign', kind: 'boolean' },
  SSTT_MAIL_AUTH_ENFORCE: { key: 'mail.auth.enforce', kind: 'boolean' },
  SSTT_CONSOLE_PASSWORD: { key: 'console.password', kind: 'string' },
  SSTT_EVENTS: { key: 'console.events', kind: 'list' },
  SSTT_P12_PASSWORD: { key: 'pki.p12Password', kind: 'string' },
  SSTT_CERTS_DIR: { key: 'paths.certs', kind: 'string' },
  SSTT_DATA_DIR: { key: 'paths.data', kind: 'string' },
  SSTT_LOG_DIR: { key: 'paths.logs', kind: 'string' },
};

/** Command-line flags every app accepts, and the config key each one sets. */
const FLAG_KEYS: Record<string, { key: string; kind: 'string' | 'number' | 'boolean' | 'list' }> = {
  id: { key: 'id', kind: 'string' },
  profile: { key: 'profile', kind: 'string' },
  listen: { key: 'listen', kind: 'string' },
  ...Object.fromEntries(SERVICES.map((s) => [`${s}-port`, { key: `ports.${s}`, kind: 'number' as const }])),
  forwarder: { key: 'dns.forwarders', kind: 'list' },
  'map-to-loopback': { key: 'dns.mapToLoopback', kind: 'boolean' },
  'certs-dir': { key: 'paths.certs', kind: 'string' },
  'data-dir': { key: 'paths.data', kind: 'string' },
  'log-dir': { key: 'paths.logs', kind: 'string' },
};

/** parseArgs options for the flags above (plus --config), to merge with an app's own. */
export const SCENARIO_FLAGS = {
  config: { type: 'string' },
  ...Object.fromEntries(
    Object.entries(FLAG_KEYS).map(([flag, { kind }]) => [
      flag,
      kind === 'boolean' ? { type: 'boolean' } : kind === 'list' ? { type: 'string', multiple: true } : { type: 'string' },
    ]),
  ),
} as NonNullable<ParseArgsConfig['options']>;

export interface LoadOptions {
  /** Environment to read (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Values of the scenario flags as parseArgs returned them. */
  flags?: Record<string, unknown>;
  /** Explicit config file; otherwise SSTT_CONFIG, then <repo root>/sstt.config.json if it exists. */
  configFile?: string;
  /** For tests: where /etc/resolv.conf is. */
  resolvConfPath?: string;
  /**
   * Read the DKIM public keys from certs/dkim (default true). false: a scenario whose zone
   * publishes no DKIM key, for what must not depend on this machine's keys (infra/'s committed files).
   */
  dkimKeys?: boolean;
}

/** Loads and validates the scenario. Throws ConfigError with a one-line message. */
export function loadScenario(opts: LoadOptions = {}): Scenario {
  const env = opts.env ?? process.env;
  const flags = opts.flags ?? {};
  const explicit = (flags.config as string | undefined) ?? opts.configFile ?? env.SSTT_CONFIG;
  const file = explicit ? path.resolve(explicit) : path.join(repoRoot(env), CONFIG_FILE);

  const layers: ConfigInput[] = [];
  if (explicit || fs.existsSync(file)) layers.push(readConfigFile(file));
  layers.push(validate(fromPairs(env, ENV_KEYS), 'environment', envNamer));
  layers.push(validate(fromPairs(flags, FLAG_KEYS), 'command line', (k) => `--${flagFor(k)}`));
  const merged = validate(
    layers.reduce<Json>((acc, l) => deepMerge(acc, l as Json), {}),
    'configuration',
    (k) => k,
  );
  const resolvConfPath = opts.resolvConfPath ?? '/etc/resolv.conf';
  return resolveScenario(merged, {
    env,
    resolvConf: () => fs.readFileSync(resolvConfPath, 'utf8'),
    ...(opts.dkimKeys === false ? {} : { dkimPublicKey: readDkimPublicKey }),
  });
}

/** Reads and validates one config file; every error names the file. */
export function readConfigFile(file: string): ConfigInput {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ConfigError(file, '(file)', 'a readable JSON file', code === 'ENOENT' ? 'no such file' : code);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    // JSON.parse quotes the text around the fault as it is, newlines included: escape the
    // controls so the error stays one line (found by fuzz/load.fuzz.ts).
    throw new ConfigError(file, '(file)', 'valid JSON', escapeControls((err as Error).message));
  }
  return validate(data, file, (k) => k);
}

/** Control characters as \uXXXX escapes, so a message cannot break its line. */
function escapeControls(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Parses an app's argv with the scenario flags plus the app's own; bad flags are ConfigErrors. */
export function parseCommandLine<O extends NonNullable<ParseArgsConfig['options']>>(
  argv: string[],
  own: O = {} as O,
  allowPositionals = false,
): { values: Record<string, unknown>; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args: argv, options: { ...SCENARIO_FLAGS, ...own }, allowPositionals, strict: true });
    return { values: values as Record<string, unknown>, positionals };
  } catch (err) {
    const msg = (err as Error).message;
    const flag = /'(-{1,2}[^' ]+)/.exec(msg)?.[1] ?? '(arguments)';
    throw new ConfigError('command line', flag, 'one of the documented flags (see --help)', msg.split('\n')[0]!);
  }
}

function envNamer(keyPath: string): string {
  return Object.entries(ENV_KEYS).find(([, v]) => keyPath === v.key || keyPath.startsWith(`${v.key}.`))?.[0] ?? keyPath;
}

function flagFor(keyPath: string): string {
  return Object.entries(FLAG_KEYS).find(([, v]) => keyPath === v.key || keyPath.startsWith(`${v.key}.`))?.[0] ?? keyPath;
}

/** Turns a flat source (env or flags) into a nested config object, converting the value kinds. */
function fromPairs(source: Record<string, unknown>, table: typeof ENV_KEYS): Json {
  const out: Json = {};
  for (const [name, { key, kind }] of Object.entries(table)) {
    const raw = source[name];
    if (raw === undefined || raw === '') continue;
    let value: unknown = raw;
    if (kind === 'number' && typeof raw === 'string' && /^\s*-?\d+\s*$/.test(raw)) value = Number(raw);
    else if (kind === 'boolean' && typeof raw === 'string') {
      value = /^(1|true|yes|on)$/i.test(raw) ? true : /^(0|false|no|off)$/i.test(raw) ? false : raw;
    } else if (kind === 'list' && typeof raw === 'string')
      value = raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    setPath(out, key, value);
  }
  return out;
}

function setPath(obj: Json, keyPath: string, value: unknown): void {
  const parts = keyPath.split('.');
  let cur = obj;
  for (const p of parts.slice(0, -1)) cur = (cur[p] ??= {}) as Json;
  cur[parts.at(-1)!] = value;
}

function getPath(obj: unknown, parts: PropertyKey[]): unknown {
  let cur = obj;
  for (const p of parts) cur = cur && typeof cur === 'object' ? (cur as Record<PropertyKey, unknown>)[p] : undefined;
  return cur;
}

function deepMerge(a: Json, b: Json): Json {
  const out: Json = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] =
      v && typeof v === 'object' && !Array.isArray(v) && prev && typeof prev === 'object' && !Array.isArray(prev) ? deepMerge(prev as Json, v as Json) : v;
  }
  return out;
}

function validate(data: unknown, source: string, name: KeyNamer): ConfigInput {
  const result = configSchema.safeParse(data);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  throw issueToError(issue, data, source, name);
}

function issueToError(issue: z.core.$ZodIssue, data: unknown, source: string, name: KeyNamer): ConfigError {
  const keyPath = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    const parent = getPath(data, issue.path);
    const known = knownKeys(issue.path.map(String));
    const bad = issue.keys[0]!;
    const key = keyPath ? `${keyPath}.${bad}` : bad;
    return new ConfigError(source, name(key), `one of ${known.join(', ')}`, `unknown key ${showValue(bad)}${parent ? '' : ''}`);
  }
  return new ConfigError(source, name(keyPath || '(root)'), expectedText(issue), showValue(getPath(data, issue.path)));
}

/** What a value should have been, in words, from a zod issue (custom messages are already words). */
function expectedText(issue: z.core.$ZodIssue): string {
  // Our own messages are written as the expected value, lower-case; zod's start with a capital.
  if (/^[a-z]/.test(issue.message)) return issue.message;
  switch (issue.code) {
    case 'invalid_type':
      return issue.expected === 'int' ? 'a whole number' : `a ${issue.expected}`;
    case 'invalid_value':
      return `one of ${issue.values.map((v) => String(v)).join(', ')}`;
    case 'invalid_format':
      return `a valid ${issue.format}`;
    case 'too_big':
      return `${issue.origin === 'string' ? 'a text of at most' : issue.origin === 'array' ? 'a list of at most' : 'at most'} ${issue.maximum}${issue.origin === 'string' ? ' characters' : issue.origin === 'array' ? ' items' : ''}`;
    case 'too_small':
      return `${issue.origin === 'string' ? 'a text of at least' : issue.origin === 'array' ? 'a list of at least' : 'at least'} ${issue.minimum}${issue.origin === 'string' ? ' characters' : issue.origin === 'array' ? ' items' : ''}`;
    case 'invalid_union':
      return 'one of the allowed values';
    default:
      return issue.message;
  }
}

/** The keys the schema allows at a path, for "unknown key" messages. */
function knownKeys(parts: string[]): string[] {
  let shape: unknown = configSchema;
  for (const p of parts) {
    const s = unwrap(shape) as { shape?: Record<string, unknown>; element?: unknown };
    shape = s.shape ? s.shape[p] : s.element;
  }
  const s = unwrap(shape) as { shape?: Record<string, unknown> };
  return Object.keys(s.shape ?? {}).filter((k) => k !== '$schema');
}

function unwrap(schema: unknown): unknown {
  let s = schema as { unwrap?: () => unknown };
  while (s && typeof s.unwrap === 'function') s = s.unwrap() as { unwrap?: () => unknown };
  return s;
}
