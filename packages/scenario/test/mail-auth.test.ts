// Mail authentication in the scenario: the `mail.auth` settings, the SPF, DKIM and DMARC record
// texts, and the zone publishing each DKIM key that certs/dkim holds (and none that it lacks).
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { certPaths } from '../src/certs.ts';
import { loadScenario } from '../src/load.ts';
import { dkimPublicKeyData, dmarcRecordText, readDkimPublicKey, spfRecordText, txtStrings } from '../src/mail-auth.ts';
import { rdataText, scenarioZones, soaOf } from '../src/zone.ts';

// One directory per test, all inside one removed when the file's tests end.
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sstt-mailauth-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
const tmp = () => fs.mkdtempSync(path.join(root, 't-'));
const scenario = (env: Record<string, string> = {}, opts: { dkimKeys?: boolean; configFile?: string } = {}) =>
  loadScenario({ env: { SSTT_CERTS_DIR: tmp(), ...env }, resolvConfPath: '/dev/null', configFile: opts.configFile, ...opts });

/** Writes a key pair where packages/pki puts it (PKCS#8 and SPKI PEM); returns the public key. */
function mint(file: { key: string; pub: string }, type: 'rsa' | 'ed25519'): crypto.KeyObject {
  const { publicKey, privateKey } = type === 'rsa' ? crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }) : crypto.generateKeyPairSync('ed25519');
  fs.mkdirSync(path.dirname(file.key), { recursive: true });
  fs.writeFileSync(file.key, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  fs.writeFileSync(file.pub, publicKey.export({ type: 'spki', format: 'pem' }));
  return publicKey;
}

const txtOf = (s: ReturnType<typeof scenario>, name: string) =>
  scenarioZones(s)[0]!
    .records.filter((r) => r.name === name && r.type === 'TXT')
    .map((r) => (r.type === 'TXT' ? r.strings : []));

describe('mail.auth settings', () => {
  it('default: verify and sign, record only, DMARC p=reject, selectors rsa and ed25519, the mail host as authserv-id', () => {
    const s = scenario();
    expect(s.mail.auth).toEqual({
      verify: true,
      sign: true,
      enforce: false,
      authservId: `${s.hostname}.${s.domain}`,
      dmarcPolicy: 'reject',
      dkim: [
        { selector: 'rsa', algorithm: 'rsa-sha256' },
        { selector: 'ed25519', algorithm: 'ed25519-sha256' },
      ],
    });
  });

  it('the config file and the environment set them; a bad selector or policy is refused with its place', () => {
    const dir = tmp();
    const file = path.join(dir, 'sstt.config.json');
    fs.writeFileSync(file, JSON.stringify({ mail: { auth: { dmarcPolicy: 'quarantine', selectors: { rsa: 's2025' } } } }));
    const s = scenario({ SSTT_MAIL_AUTH_ENFORCE: 'yes', SSTT_MAIL_AUTH_VERIFY: 'off' }, { configFile: file });
    expect(s.mail.auth.enforce).toBe(true);
    expect(s.mail.auth.verify).toBe(false);
    expect(s.mail.auth.dmarcPolicy).toBe('quarantine');
    expect(s.mail.auth.dkim.map((k) => k.selector)).toEqual(['s2025', 'ed25519']);
    expect(dmarcRecordText(s)).toBe(`v=DMARC1; p=quarantine; rua=mailto:postmaster@${s.domain}`);

    fs.writeFileSync(file, JSON.stringify({ mail: { auth: { selectors: { rsa: 'a.b' } } } }));
    expect(() => scenario({}, { configFile: file })).toThrow(
      `${file}: mail.auth.selectors.rsa: expected a DNS label: letters, digits and inner hyphens (RFC 6376 §3.1), found "a.b"`,
    );
    fs.writeFileSync(file, JSON.stringify({ mail: { auth: { dmarcPolicy: 'drop' } } }));
    expect(() => scenario({}, { configFile: file })).toThrow(`${file}: mail.auth.dmarcPolicy: expected one of none, quarantine, reject, found "drop"`);
    fs.writeFileSync(file, JSON.stringify({ mail: { auth: { selectors: { rsa: 'k1', ed25519: 'k1' } } } }));
    expect(() => scenario({}, { configFile: file })).toThrow('configuration: mail.auth.selectors: expected two different selectors, found "k1"');
  });
});

describe('the records', () => {
  it('SPF: the MX and every relay network, -all (dev: this machine; lab: the LAN and this machine)', () => {
    expect(spfRecordText(scenario())).toBe('v=spf1 mx ip4:127.0.0.1 ip6:::1 -all');
    const lab = scenario({ SSTT_PROFILE: 'lab' });
    expect(spfRecordText(lab)).toBe(`v=spf1 mx ip4:${lab.network.lan} ip4:127.0.0.1 -all`);
  });

  it('a TXT text longer than 255 octets is split into <character-string>s that join back to it', () => {
    const text = 'x'.repeat(600);
    expect(txtStrings(text).map((p) => p.length)).toEqual([255, 255, 90]);
    expect(txtStrings(text).join('')).toBe(text);
    expect(txtStrings('')).toEqual(['']);
  });

  it('p= is the SubjectPublicKeyInfo for RSA and the bare 32-byte key for Ed25519 (RFC 8463 §4), from PEM or DER', () => {
    const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
    const spki = rsa.export({ type: 'spki', format: 'der' });
    expect(dkimPublicKeyData(rsa.export({ type: 'spki', format: 'pem' }) as string)).toEqual({ keyType: 'rsa', p: spki.toString('base64') });
    expect(dkimPublicKeyData(spki)).toEqual({ keyType: 'rsa', p: spki.toString('base64') });
    const ed = crypto.generateKeyPairSync('ed25519').publicKey;
    const raw = ed.export({ type: 'spki', format: 'der' }).subarray(-32);
    const data = dkimPublicKeyData(ed.export({ type: 'spki', format: 'pem' }) as string);
    expect(data).toEqual({ keyType: 'ed25519', p: raw.toString('base64') });
    expect(Buffer.from(data.p, 'base64')).toHaveLength(32);
    expect(() =>
      dkimPublicKeyData(crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }) as string),
    ).toThrow('a DKIM key is RSA or Ed25519, not ec');
  });

  it('a missing key file is no key; a key of the wrong kind for its selector is an error', () => {
    const dir = tmp();
    expect(readDkimPublicKey(path.join(dir, 'none.pub'), 'rsa-sha256')).toBeUndefined();
    const f = { key: path.join(dir, 'k.key'), pub: path.join(dir, 'k.pub') };
    mint(f, 'ed25519');
    expect(() => readDkimPublicKey(f.pub, 'rsa-sha256')).toThrow(`${f.pub}: a ed25519 key, but the selector is for rsa-sha256`);
  });
});

describe('DKIM keys in the zone', () => {
  it('each minted key is published at <selector>._domainkey; the serial follows the keys; dkimKeys:false publishes none', () => {
    const certs = tmp();
    const before = scenario({ SSTT_CERTS_DIR: certs });
    expect(before.mail.auth.dkim.every((k) => k.publicKey === undefined)).toBe(true);
    const p = certPaths(before);
    const rsa = mint(p.dkim('rsa'), 'rsa');
    const ed = mint(p.dkim('ed25519'), 'ed25519');
    const s = scenario({ SSTT_CERTS_DIR: certs });
    const d = s.domain;

    const rsaTxt = txtOf(s, `rsa._domainkey.${d}`);
    expect(rsaTxt).toHaveLength(1);
    // 2048-bit SPKI in base64 is longer than one <character-string>: several, joined by the verifier.
    expect(rsaTxt[0]!.length).toBeGreaterThan(1);
    expect(rsaTxt[0]!.every((part) => part.length <= 255)).toBe(true);
    expect(rsaTxt[0]!.join('')).toBe(`v=DKIM1; k=rsa; p=${rsa.export({ type: 'spki', format: 'der' }).toString('base64')}`);
    expect(txtOf(s, `ed25519._domainkey.${d}`)).toEqual([
      [`v=DKIM1; k=ed25519; p=${ed.export({ type: 'spki', format: 'der' }).subarray(-32).toString('base64')}`],
    ]);
    // The presentation form the master file and the console show: quoted strings side by side.
    const rec = scenarioZones(s)[0]!.records.find((r) => r.name === `rsa._domainkey.${d}`)!;
    expect(rdataText(rec)).toMatch(/^"v=DKIM1; k=rsa; p=[A-Za-z0-9+/]+" "[A-Za-z0-9+/=]+"( "[A-Za-z0-9+/=]+")*$/);

    expect(soaOf(scenarioZones(s)[0]!).serial).not.toBe(soaOf(scenarioZones(before)[0]!).serial);
    const without = scenario({ SSTT_CERTS_DIR: certs }, { dkimKeys: false });
    expect(txtOf(without, `rsa._domainkey.${d}`)).toEqual([]);
    expect(soaOf(scenarioZones(without)[0]!).serial).toBe(soaOf(scenarioZones(before)[0]!).serial);
  });

  it('one key missing: only the other is published', () => {
    const certs = tmp();
    const s0 = scenario({ SSTT_CERTS_DIR: certs });
    mint(certPaths(s0).dkim('ed25519'), 'ed25519');
    const s = scenario({ SSTT_CERTS_DIR: certs });
    const names = scenarioZones(s)[0]!
      .records.filter((r) => r.name.includes('._domainkey.'))
      .map((r) => r.name);
    expect(names).toEqual([`ed25519._domainkey.${s.domain}`]);
  });
});
