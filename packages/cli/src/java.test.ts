// Java's keystore through keytool: the argv sstt gives it and the listing it reads back. A JRE is
// not part of `npm run setup` (200 MB), so keytool itself is not run here: these are the exact
// commands (keytool(1) of JDK 8 to 21), and the listing is keytool 17's own output.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '@sstt/testkit';
import { CACERTS_PASSWORD, cacertsOf, keytoolArgv, keytoolFingerprints } from './java.ts';

const tmp = tempDir('sstt-java-');
afterAll(() => tmp.remove());

describe('keytool', () => {
  it('lists, imports as a trusted CA without asking, and deletes by alias, with the store password every JRE ships', () => {
    expect(CACERTS_PASSWORD).toBe('changeit');
    expect(keytoolArgv.list('/ks')).toEqual(['-list', '-keystore', '/ks', '-storepass', 'changeit']);
    expect(keytoolArgv.list('/ks', 'ca.example.test')).toEqual(['-list', '-keystore', '/ks', '-storepass', 'changeit', '-alias', 'ca.example.test']);
    expect(keytoolArgv.importCert('/ks', 'ca.example.test', '/c/ca.crt')).toEqual([
      '-importcert',
      '-noprompt',
      '-trustcacerts',
      '-alias',
      'ca.example.test',
      '-file',
      '/c/ca.crt',
      '-keystore',
      '/ks',
      '-storepass',
      'changeit',
    ]);
    expect(keytoolArgv.delete('/ks', 'ca.example.test')).toEqual(['-delete', '-alias', 'ca.example.test', '-keystore', '/ks', '-storepass', 'changeit']);
  });

  it("reads the SHA-256 fingerprints of keytool's listing as lower-case hex", () => {
    const listing = [
      'Keystore type: JKS',
      'Keystore provider: SUN',
      '',
      'Your keystore contains 2 entries',
      '',
      'debian:accvraiz1.pem, Jun 24, 2025, trustedCertEntry, ',
      'Certificate fingerprint (SHA-256): 9A:6E:C0:12:E1:A7:DA:9D:BE:34:19:4D:47:8A:D7:C0:DB:18:22:FB:07:1D:F1:29:81:49:6E:D1:04:38:41:13',
      'ca.example.test, Dec 6, 2026, trustedCertEntry, ',
      'Certificate fingerprint (SHA-256): 55:41:53:B1:3D:2C:F9:DD:B7:53:BF:BE:1A:4E:0A:E0:8D:0A:A4:18:70:58:FE:60:A2:B8:62:B2:E4:B8:7B:CB',
      '',
    ].join('\n');
    expect(keytoolFingerprints(listing)).toEqual([
      '9a6ec012e1a7da9dbe34194d478ad7c0db1822fb071df12981496ed104384113',
      '554153b13d2cf9ddb753bfbe1a4e0ae08d0aa4187058fe60a2b862b2e4b87bcb',
    ]);
    expect(keytoolFingerprints('keytool error: java.lang.Exception: Alias <x> does not exist')).toEqual([]);
  });

  it('finds cacerts beside keytool through the alternatives symlinks (JDK 9+ layout, then JDK 8 jre/)', () => {
    const jdk = path.join(tmp.dir, 'jvm', 'java-17');
    fs.mkdirSync(path.join(jdk, 'bin'), { recursive: true });
    fs.mkdirSync(path.join(jdk, 'lib', 'security'), { recursive: true });
    fs.writeFileSync(path.join(jdk, 'bin', 'keytool'), '');
    const store = path.join(tmp.dir, 'etc-ssl-java-cacerts');
    fs.writeFileSync(store, '');
    fs.symlinkSync(store, path.join(jdk, 'lib', 'security', 'cacerts'));
    const alternative = path.join(tmp.dir, 'keytool-alternative');
    fs.symlinkSync(path.join(jdk, 'bin', 'keytool'), alternative);
    expect(cacertsOf(alternative)).toBe(store);

    const jdk8 = path.join(tmp.dir, 'jvm', 'java-8');
    fs.mkdirSync(path.join(jdk8, 'bin'), { recursive: true });
    fs.mkdirSync(path.join(jdk8, 'jre', 'lib', 'security'), { recursive: true });
    fs.writeFileSync(path.join(jdk8, 'bin', 'keytool'), '');
    fs.writeFileSync(path.join(jdk8, 'jre', 'lib', 'security', 'cacerts'), '');
    expect(cacertsOf(path.join(jdk8, 'bin', 'keytool'))).toBe(path.join(jdk8, 'jre', 'lib', 'security', 'cacerts'));
    fs.mkdirSync(path.join(tmp.dir, 'jvm', 'none', 'bin'), { recursive: true });
    fs.writeFileSync(path.join(tmp.dir, 'jvm', 'none', 'bin', 'keytool'), '');
    expect(cacertsOf(path.join(tmp.dir, 'jvm', 'none', 'bin', 'keytool'))).toBeUndefined();
  });
});
