// The config loader: any JSON in sstt.config.json (and any strings in the environment
// variables it reads) gives a Scenario or a ConfigError whose message is one line naming the
// source and the key, never another exception; and no key (__proto__, constructor) reaches
// Object.prototype through the merge of the layers.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { mutated, runCampaign, tempDir, type FuzzBudget } from '@sstt/testkit';
import { ConfigError, loadScenario, PROFILES, SERVICES } from '../src/index.ts';

/** Values near the ones each key takes, and anything else JSON can say. */
const near = fc.oneof(
  fc.constantFrom(
    0,
    1,
    -1,
    53,
    65535,
    65536,
    1.5,
    1e308,
    2048,
    '',
    '1234',
    '9721',
    'dev',
    'lab',
    'x',
    '127.0.0.1',
    '::1',
    '[::1]:53',
    '10.0.0.0/8',
    'any',
    'a@b',
    true,
    false,
    null,
    [],
    {},
  ),
  fc.jsonValue({ maxDepth: 2 }),
);
const KEYS = ['$schema', 'id', 'profile', 'listen', 'ports', 'users', 'dns', 'http', 'mail', 'pki', 'paths', '__proto__', 'constructor'];
const SUB = [
  'forwarders',
  'mapToLoopback',
  'allowQuery',
  'limits',
  'root',
  'idleTimeoutSeconds',
  'maxRequests',
  'formEmail',
  'maxSize',
  'plaintextAuth',
  'smarthost',
  'relayNets',
  'postmaster',
  'p12Password',
  'keySize',
  'days',
  'certs',
  'data',
  'logs',
  'maxConnections',
  'authPenaltyMs',
  'pressurePercent',
  ...SERVICES,
  '__proto__',
  'prototype',
];

const user = fc.record({ name: fc.oneof(fc.constantFrom('ana', 'b0b', 'Ana', '1x', ''), fc.string()), password: near, firstName: near }, { requiredKeys: [] });
const section = fc.oneof(
  fc.dictionary(fc.constantFrom(...SUB), fc.oneof(near, fc.dictionary(fc.constantFrom(...SUB), near, { maxKeys: 3 })), { maxKeys: 4 }),
  near,
);
const config = fc.oneof(
  fc.dictionary(fc.constantFrom(...KEYS), fc.oneof(section, fc.array(user, { maxLength: 3 }), fc.constantFrom(...PROFILES)), { maxKeys: 6 }),
  fc.jsonValue({ maxDepth: 3 }),
);
const ENV = [
  'SSTT_ID',
  'SSTT_PROFILE',
  'SSTT_LISTEN',
  'SSTT_DNS_PORT',
  'SSTT_HTTP_PORT',
  'SSTT_DNS_FORWARDERS',
  'SSTT_DNS_MAP_TO_LOOPBACK',
  'SSTT_HTTP_IDLE_TIMEOUT',
  'SSTT_MAIL_PLAINTEXT_AUTH',
  'SSTT_MAIL_SMARTHOST',
];

export async function configCampaign(budget: FuzzBudget): Promise<number> {
  const t = tempDir('sstt-fuzz-config-');
  const file = path.join(t.dir, 'sstt.config.json');
  const resolv = path.join(t.dir, 'resolv.conf');
  fs.writeFileSync(resolv, '');
  const text = fc.oneof(
    { weight: 4, arbitrary: config.map((c) => JSON.stringify(c)) },
    {
      weight: 1,
      arbitrary: mutated(
        config.map((c) => new Uint8Array(Buffer.from(JSON.stringify(c)))),
        4,
      ).map((b) => b.toString('utf8')),
    },
  );
  const env = fc.dictionary(
    fc.constantFrom(...ENV),
    fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('0', '53', '1', 'true', 'no', '127.0.0.1', '1.2.3.4:53,5.6.7.8', '9999')),
    { maxKeys: 2 },
  );
  const property = fc.property(text, env, (json, vars) => {
    fs.writeFileSync(file, json);
    const env = { SSTT_CERTS_DIR: path.join(t.dir, 'certs'), SSTT_DATA_DIR: path.join(t.dir, 'data'), ...vars };
    try {
      const s = loadScenario({ env, flags: {}, configFile: file, resolvConfPath: resolv });
      assert.ok(s.users.length >= 1, 'a scenario without users');
      assert.match(s.domain, /^[a-z0-9.-]+$/);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      assert.doesNotMatch(err.message, /[\r\n]/, 'a ConfigError on more than one line');
      assert.ok(err.message.startsWith(`${err.source}: ${err.key}: expected `), err.message);
    }
    assert.deepEqual(Object.keys(Object.prototype), [], 'Object.prototype was polluted');
  });
  try {
    return await runCampaign(property, budget);
  } finally {
    t.remove();
  }
}
