// The CA trust installs: the project's own CAs (dev and lab profile) are accepted by either
// profile's command, recognised by the SHA-256 of their DER; the refusals' messages are checked
// end to end in test/refusals.test.ts.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { initPki } from '@sstt/pki';
import { certPaths, loadScenario } from '@sstt/scenario';
import { tempDir } from '@sstt/testkit';
import { loadLabCa } from './ca.ts';

const tmp = tempDir('sstt-ca-');
afterAll(() => tmp.remove());
const scenario = (profile: string) =>
  loadScenario({
    env: { SSTT_PROFILE: profile, SSTT_CERTS_DIR: path.join(tmp.dir, profile), SSTT_DATA_DIR: path.join(tmp.dir, 'var') },
    flags: {},
    resolvConfPath: '/nonexistent',
  });

describe('the lab CA', () => {
  it("a dev CA: its name, constraints and digest (openssl's fingerprint)", async () => {
    const s = scenario('dev');
    await initPki(s);
    const ca = loadLabCa(s);
    expect(ca.name).toBe(`ca.${s.domain}`);
    expect(ca.constraints).toEqual({ dns: [s.domain, 'localhost'], email: [s.domain], ip: [s.network.lan, '127.0.0.0/8', '::1/128'] });
    const x509 = new crypto.X509Certificate(fs.readFileSync(certPaths(s).ca.cert));
    expect(ca.sha256).toBe(x509.fingerprint256.replace(/:/g, '').toLowerCase());
  });

  it("a lab profile's CA is accepted by a dev profile's command (same domain, fewer names)", async () => {
    const lab = scenario('lab');
    await initPki(lab);
    const dev = loadScenario({
      env: { SSTT_CERTS_DIR: path.join(tmp.dir, 'lab'), SSTT_DATA_DIR: path.join(tmp.dir, 'var') },
      flags: {},
      resolvConfPath: '/nonexistent',
    });
    expect(loadLabCa(dev).constraints).toEqual({ dns: [lab.domain], email: [lab.domain], ip: [lab.network.lan] });
  });
});
