// Firefox, Chromium (on Linux) and Thunderbird keep certificates in an NSS database: the PKCS#12
// bundles and the CA are judged by NSS's own tools (libnss3-tools), exactly the import the README
// tells users to do, and NSS validates the server and client certificates under the CA's name
// constraints.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certPaths, loadScenario, type Scenario } from '@sstt/scenario';
import { findTool, run, tempDir } from '@sstt/testkit';
import { initPki } from '../src/index.ts';

function nssTool(name: 'certutil' | 'pk12util'): string {
  const found = findTool(name);
  if (!found) throw new Error(`${name} is not installed: run \`apt-get install -y libnss3-tools\``);
  return found;
}
const certutil = nssTool('certutil');
const pk12util = nssTool('pk12util');

describe('the bundles in an NSS database (what Firefox/Chromium/Thunderbird use)', () => {
  const tmp = tempDir('sstt-pki-nss-');
  const db = `sql:${path.join(tmp.dir, 'nssdb')}`;
  let s: Scenario;

  beforeAll(async () => {
    s = loadScenario({ env: { SSTT_CERTS_DIR: path.join(tmp.dir, 'certs'), SSTT_DATA_DIR: path.join(tmp.dir, 'var') }, flags: {} });
    await initPki(s);
    fs.mkdirSync(path.join(tmp.dir, 'nssdb'));
    const r = await run(certutil, ['-N', '-d', db, '--empty-password']);
    expect(r.code, r.stderr).toBe(0);
  });
  afterAll(() => tmp.remove());

  it('imports the CA as a trusted authority and every .p12 with the password', async () => {
    const ca = await run(certutil, ['-A', '-d', db, '-n', `ca.${s.domain}`, '-t', 'CT,C,C', '-i', certPaths(s).ca.cert]);
    expect(ca.code, ca.stderr).toBe(0);
    for (const u of s.users) {
      const r = await run(pk12util, ['-i', certPaths(s).client(u.name).p12, '-d', db, '-W', s.pki.p12Password, '-K', '']);
      expect(r.stdout + r.stderr).toContain('PKCS12 IMPORT SUCCESSFUL');
    }
    const bad = await run(pk12util, ['-i', certPaths(s).client(s.users[0]!.name).p12, '-d', db, '-W', 'wrong', '-K', '']);
    expect(bad.code).not.toBe(0);
    const list = await run(certutil, ['-L', '-d', db]);
    for (const u of s.users) expect(list.stdout).toMatch(new RegExp(`^${u.name}\\s+u,u,u$`, 'm'));
    const keys = await run(certutil, ['-K', '-d', db]);
    expect(keys.stdout.match(/rsa/g)?.length).toBe(s.users.length);
  });

  it('NSS validates the client certificates (SSL client) and the server certificate (SSL server) under the constraints', async () => {
    for (const u of s.users) {
      const v = await run(certutil, ['-V', '-d', db, '-n', u.name, '-u', 'C']);
      expect(v.stdout.trim(), v.stderr).toBe('certutil: certificate is valid');
    }
    const add = await run(certutil, ['-A', '-d', db, '-n', 'www', '-t', ',,', '-i', certPaths(s).server.cert]);
    expect(add.code, add.stderr).toBe(0);
    const v = await run(certutil, ['-V', '-d', db, '-n', 'www', '-u', 'V']);
    expect(v.stdout.trim(), v.stderr).toBe('certutil: certificate is valid');
  });
});
