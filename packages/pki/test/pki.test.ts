// The lab's PKI judged by OpenSSL: every leaf verifies against the CA (and the CRL), the
// extensions are the ones the issue asks for, the PKCS#12 bundles open, a revoked certificate
// fails, names outside the CA's constraints cannot be issued, a tampered certificate fails.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import forge from 'node-forge';
import { certPaths, loadScenario, type Scenario } from '@sstt/scenario';
import { requireTool, run, tempDir } from '@sstt/testkit';
import {
  EKU,
  constraintsOf,
  initPki,
  ipsecCaPath,
  issueLeaf,
  leafSpecs,
  listCertificates,
  loadKey,
  PkiError,
  pkiIsCurrent,
  renewCertificates,
  revokeCertificate,
  signCertificate,
  type LeafSpec,
} from '../src/index.ts';

const openssl = requireTool('openssl');
const BIN = path.resolve(import.meta.dirname, '../bin/sstt-pki.mjs');

function scenarioIn(dir: string, extraEnv: Record<string, string> = {}): Scenario {
  return loadScenario({ env: { SSTT_CERTS_DIR: path.join(dir, 'certs'), SSTT_DATA_DIR: path.join(dir, 'var'), ...extraEnv }, flags: {} });
}

async function verify(s: Scenario, cert: string, crl = true) {
  const p = certPaths(s);
  const args = ['verify', '-CAfile', p.ca.cert, ...(crl ? ['-CRLfile', p.crl, '-crl_check'] : []), cert];
  return run(openssl, args);
}

async function text(file: string): Promise<string> {
  const r = await run(openssl, ['x509', '-in', file, '-noout', '-text']);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

/** 255.255.255.0 for /24: how `openssl x509 -text` prints an IPv4 name constraint. */
function dottedMask(cidr: string): string {
  const [addr, len] = cidr.split('/');
  const bits = Number(len);
  const mask = [0, 1, 2, 3].map((i) => (bits - i * 8 >= 8 ? 255 : bits - i * 8 <= 0 ? 0 : (0xff << (8 - (bits - i * 8))) & 0xff));
  return `${addr}/${mask.join('.')}`;
}

describe('sstt-pki init (dev profile)', () => {
  const tmp = tempDir('sstt-pki-');
  let s: Scenario;
  let created: string[];

  beforeAll(async () => {
    s = scenarioIn(tmp.dir);
    ({ created } = await initPki(s));
  });
  afterAll(() => tmp.remove());

  it('creates the CA, the empty CRL, every leaf and the DKIM keys, with private keys 0600', () => {
    const p = certPaths(s);
    const expected = [
      p.ca.cert,
      p.ca.key,
      ipsecCaPath(s),
      p.crl,
      ...leafSpecs(s).flatMap((l) => [l.cert, l.key, ...(l.p12 ? [l.p12] : [])]),
      ...['rsa', 'ed25519'].flatMap((sel) => [p.dkim(sel).key, p.dkim(sel).pub]),
    ];
    expect(new Set(created)).toEqual(new Set(expected));
    for (const l of leafSpecs(s)) {
      expect(fs.statSync(l.key).mode & 0o777).toBe(0o600);
      if (l.p12) expect(fs.statSync(l.p12).mode & 0o777).toBe(0o600);
    }
    expect(fs.statSync(p.ca.key).mode & 0o777).toBe(0o600);
    for (const sel of ['rsa', 'ed25519']) expect(fs.statSync(p.dkim(sel).key).mode & 0o777).toBe(0o600);
    expect(leafSpecs(s).map((l) => l.name)).toEqual(['server', ...s.users.map((u) => u.name), 'ipsec-server', 'ipsec-client']);
  });

  it('is idempotent: a second init creates nothing and keeps the CA', async () => {
    const before = fs.readFileSync(certPaths(s).ca.cert, 'utf8');
    const again = await initPki(s);
    expect(again.created).toEqual([]);
    expect(fs.readFileSync(certPaths(s).ca.cert, 'utf8')).toBe(before);
  });

  it('openssl verify accepts every leaf against the CA and the CRL', async () => {
    for (const l of leafSpecs(s)) {
      const r = await verify(s, l.cert);
      expect(r.stdout.trim(), `${l.name}: ${r.stderr}`).toBe(`${l.cert}: OK`);
    }
    const crl = await run(openssl, ['crl', '-in', certPaths(s).crl, '-noout', '-text']);
    expect(crl.stdout).toContain('No Revoked Certificates.');
    expect(crl.stdout).toContain(`CN = ca.${s.domain}`);
  });

  it('the CA is a CA with a path length, signs certificates and CRLs, and carries name constraints', async () => {
    const t = await text(certPaths(s).ca.cert);
    expect(t).toMatch(/Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
    expect(t).toMatch(/Key Usage: critical\s+Certificate Sign, CRL Sign/);
    expect(t).toContain(`Subject: C = ES, ST = Murcia, O = UMU, OU = Servicios Telematicos ${s.id}, CN = ca.${s.domain}`);
    expect(t).toMatch(/Name Constraints: critical\s+Permitted:/);
    expect(t).toContain(`DNS:${s.domain}\n`);
    expect(t).toContain(`email:${s.domain}\n`);
    expect(t).toContain(`IP:${dottedMask(s.network.lan)}\n`);
    expect(t).toContain('IP:127.0.0.0/255.0.0.0\n');
  });

  it('the CA certificate for strongSwan is the same CA without IP subtrees and verifies the same leaves', async () => {
    const t = await text(ipsecCaPath(s));
    expect(t).toContain(`Subject: C = ES, ST = Murcia, O = UMU, OU = Servicios Telematicos ${s.id}, CN = ca.${s.domain}`);
    expect(t).toMatch(/Name Constraints: critical\s+Permitted:\s+DNS:/);
    expect(t).not.toContain('IP:');
    const keyOf = async (f: string) => (await run(openssl, ['x509', '-in', f, '-noout', '-pubkey'])).stdout;
    expect(await keyOf(ipsecCaPath(s))).toBe(await keyOf(certPaths(s).ca.cert));
    for (const role of ['server', 'client'] as const) {
      const f = certPaths(s).ipsec(role).cert;
      const r = await run(openssl, ['verify', '-CAfile', ipsecCaPath(s), '-CRLfile', certPaths(s).crl, '-crl_check', f]);
      expect(r.stdout.trim(), r.stderr).toBe(`${f}: OK`);
    }
  });

  it('the server certificate names www and every service name, the server IP and loopback; serverAuth', async () => {
    const t = await text(certPaths(s).server.cert);
    expect(t).toContain(`CN = www.${s.domain}`);
    for (const n of s.names.filter((x) => x.role === 'server')) expect(t).toContain(`DNS:${n.fqdn}`);
    expect(t).toContain(`DNS:${s.domain},`);
    expect(t).toContain(`IP Address:${s.network.server}`);
    expect(t).toContain('IP Address:127.0.0.1');
    expect(t).toContain('DNS:localhost');
    expect(t).toMatch(/Extended Key Usage:\s+TLS Web Server Authentication\n/);
    expect(t).toMatch(/Basic Constraints: critical\s+CA:FALSE/);
  });

  it('a client certificate holds the first name and the ID, the email SAN and clientAuth', async () => {
    const u = s.users[0]!;
    const t = await text(certPaths(s).client(u.name).cert);
    expect(t).toContain(`CN = ${u.firstName} ${s.id}, GN = ${u.firstName}, serialNumber = ${s.id}`);
    expect(t).toContain(`email:${u.email}`);
    expect(t).toMatch(/Extended Key Usage:\s+TLS Web Client Authentication, E-mail Protection\n/);
  });

  it('the IPsec host certificates carry IP + DNS SANs and serverAuth, clientAuth and the IKE intermediate EKU', async () => {
    for (const role of ['server', 'client'] as const) {
      const t = await text(certPaths(s).ipsec(role).cert);
      const host = s.names.find((n) => n.label === (role === 'server' ? 'servidor' : 'cliente'))!;
      expect(t).toContain(`CN = ${host.fqdn}`);
      expect(t).toContain(`DNS:${host.fqdn}, IP Address:${role === 'server' ? s.network.server : s.network.client}`);
      expect(t).toMatch(/Extended Key Usage:\s+TLS Web Server Authentication, TLS Web Client Authentication, 1\.3\.6\.1\.5\.5\.8\.2\.2\n/);
    }
  });

  it('openssl pkcs12 (OpenSSL 3, no -legacy) opens each bundle with the password; a wrong password fails', async () => {
    for (const u of s.users) {
      const p12 = certPaths(s).client(u.name).p12;
      const ok = await run(openssl, ['pkcs12', '-info', '-in', p12, '-passin', `pass:${s.pki.p12Password}`, '-nodes']);
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stderr).toContain('Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC');
      expect(ok.stdout).toContain('BEGIN PRIVATE KEY');
      expect(ok.stdout.match(/BEGIN CERTIFICATE/g)).toHaveLength(2); // the user's and the CA
      expect(ok.stdout).toContain(`subject=C = ES, ST = Murcia, O = UMU, OU = Servicios Telematicos ${s.id}, CN = ca.${s.domain}`);
      const bad = await run(openssl, ['pkcs12', '-info', '-in', p12, '-passin', 'pass:wrong', '-noout']);
      expect(bad.code).not.toBe(0);
      expect(bad.stderr).toContain('Mac verify error');
    }
  });

  it('refuses to issue a name outside the constraints; a forced one fails openssl verify', async () => {
    const p = certPaths(s);
    const ca = { cert: forge.pki.certificateFromPem(fs.readFileSync(p.ca.cert, 'utf8')), key: loadKey(fs.readFileSync(p.ca.key, 'utf8')).privateKey };
    const server = leafSpecs(s).find((l) => l.name === 'server')!;
    const rogue: LeafSpec = {
      ...server,
      name: 'rogue',
      dns: ['www.example.com'],
      ip: ['10.1.2.3'],
      cert: path.join(tmp.dir, 'rogue.crt'),
      key: path.join(tmp.dir, 'rogue.key'),
    };
    expect(() => issueLeaf(s, ca, rogue, new Date())).toThrow(PkiError);
    expect(() => issueLeaf(s, ca, rogue, new Date())).toThrow("refusing to issue rogue: DNS:www.example.com, IP:10.1.2.3 outside the CA's name constraints");
    expect(constraintsOf(ca.cert)?.dns).toEqual([s.domain, 'localhost']);

    // Bypass the check and sign it anyway: OpenSSL itself enforces the CA's constraints.
    const key = loadKey(fs.readFileSync(server.key, 'utf8'));
    const forced = signCertificate(
      {
        subject: [{ short: 'CN', value: 'www.example.com' }],
        publicKey: key.publicKey,
        notBefore: new Date(Date.now() - 60_000),
        notAfter: new Date(Date.now() + 86_400_000),
        extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'www.example.com' }] }],
      },
      ca,
    );
    fs.writeFileSync(rogue.cert, forge.pki.certificateToPem(forced));
    const r = await verify(s, rogue.cert, false);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('permitted subtree violation');
  });

  it('a tampered certificate fails verification', async () => {
    const pem = fs.readFileSync(certPaths(s).server.cert, 'utf8');
    const der = Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(forge.pki.certificateFromPem(pem))).getBytes(), 'binary');
    // Change one letter of the subject's CN inside the signed part.
    const at = der.indexOf(Buffer.from(`www.${s.domain}`));
    expect(at).toBeGreaterThan(0);
    der[at] = 'x'.charCodeAt(0);
    const file = path.join(tmp.dir, 'tampered.crt');
    fs.writeFileSync(file, forge.pem.encode({ type: 'CERTIFICATE', body: der.toString('binary') }));
    const r = await verify(s, file, false);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('certificate signature failure');
  });

  it('revoke puts a certificate in the CRL; openssl -crl_check then rejects it; renew reissues it', async () => {
    const u = s.users[1]!;
    const file = certPaths(s).client(u.name).cert;
    await revokeCertificate(s, u.name);
    const r = await verify(s, file);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('certificate revoked');
    // The others still verify against the re-signed CRL.
    const other = await verify(s, certPaths(s).client(s.users[0]!.name).cert);
    expect(other.stdout.trim()).toBe(`${certPaths(s).client(s.users[0]!.name).cert}: OK`);
    const crl = await run(openssl, ['crl', '-in', certPaths(s).crl, '-noout', '-text']);
    expect(crl.stdout).toMatch(/CRL Number:\s+2\n/);
    expect(listCertificates(s).find((c) => c.name === u.name)?.status).toBe('revoked');
    await expect(revokeCertificate(s, 'nobody')).rejects.toThrow('no certificate called "nobody"');

    expect(await renewCertificates(s)).toEqual([u.name]);
    const again = await verify(s, file);
    expect(again.stdout.trim()).toBe(`${file}: OK`);
    expect(listCertificates(s).find((c) => c.name === u.name)?.status).toBe('valid');
    // Nothing expires within 30 days now.
    expect(await renewCertificates(s)).toEqual([]);
    // ... but everything does within two years, the DKIM keys too.
    expect(await renewCertificates(s, { withinDays: 730 })).toEqual([...leafSpecs(s).map((l) => l.name), 'dkim-rsa', 'dkim-ed25519']);
  });

  it('the DKIM keys: RSA 2048 and Ed25519 that openssl reads, listed with their record name; renew by name replaces one; revoke refuses', async () => {
    const p = certPaths(s);
    const rsa = await run(openssl, ['pkey', '-in', p.dkim('rsa').key, '-noout', '-text']);
    expect(rsa.stdout).toMatch(/^Private-Key: \(2048 bit, 2 primes\)/);
    const ed = await run(openssl, ['pkey', '-in', p.dkim('ed25519').key, '-noout', '-text']);
    expect(ed.stdout).toMatch(/^ED25519 Private-Key:/);
    // The public file is the private key's half.
    const pub = await run(openssl, ['pkey', '-in', p.dkim('ed25519').key, '-pubout']);
    expect(pub.stdout).toBe(fs.readFileSync(p.dkim('ed25519').pub, 'utf8'));
    const listed = listCertificates(s).filter((c) => c.kind === 'dkim');
    expect(listed.map((c) => [c.name, c.status, c.subject, c.file])).toEqual([
      ['dkim-rsa', 'valid', `rsa-sha256 2048-bit key, TXT rsa._domainkey.${s.domain}`, p.dkim('rsa').pub],
      ['dkim-ed25519', 'valid', `ed25519-sha256 key, TXT ed25519._domainkey.${s.domain}`, p.dkim('ed25519').pub],
    ]);
    const before = fs.readFileSync(p.dkim('rsa').pub, 'utf8');
    const edBefore = fs.readFileSync(p.dkim('ed25519').pub, 'utf8');
    expect(await renewCertificates(s, { names: ['dkim-rsa'] })).toEqual(['dkim-rsa']);
    expect(fs.readFileSync(p.dkim('rsa').pub, 'utf8')).not.toBe(before);
    expect(fs.readFileSync(p.dkim('ed25519').pub, 'utf8')).toBe(edBefore);
    expect(fs.statSync(p.dkim('rsa').key).mode & 0o777).toBe(0o600);
    await expect(revokeCertificate(s, 'dkim-rsa')).rejects.toThrow('dkim-rsa is a DKIM key, not a certificate: `renew dkim-rsa` replaces it');
    // npm run dev's warm check (the init stamp) sees a DKIM key gone: init must run again.
    await initPki(s);
    expect(pkiIsCurrent(s)).toBe(true);
    fs.renameSync(p.dkim('rsa').pub, `${p.dkim('rsa').pub}.away`);
    expect(pkiIsCurrent(s)).toBe(false);
    fs.renameSync(`${p.dkim('rsa').pub}.away`, p.dkim('rsa').pub);
    // A public file that no longer matches its private key is remade by init.
    fs.writeFileSync(p.dkim('ed25519').pub, before);
    expect((await initPki(s)).created).toEqual([p.dkim('ed25519').key, p.dkim('ed25519').pub]);
  });

  it('a year later, list shows the leaves expired and init reissues them and re-signs the CRL', async () => {
    const later = new Date(Date.now() + (s.pki.days + 1) * 86_400_000);
    expect(
      listCertificates(s, later)
        .filter((c) => c.kind !== 'ca')
        .map((c) => c.status),
    ).toEqual([...leafSpecs(s), ...s.mail.auth.dkim].map(() => 'expired'));
    const { created } = await initPki(s, { now: later });
    expect(created).toContain(certPaths(s).crl);
    expect(created).toContain(certPaths(s).server.cert);
    expect(created).not.toContain(certPaths(s).ca.cert);
    expect(created).toContain(certPaths(s).dkim('rsa').key);
    expect(listCertificates(s, later).every((c) => c.status === 'valid')).toBe(true);
  });

  it('never replaces a CA whose key went missing', async () => {
    const p = certPaths(s);
    const keyText = fs.readFileSync(p.ca.key);
    fs.rmSync(p.ca.key);
    try {
      await expect(initPki(s)).rejects.toThrow(`${p.ca.key} is missing but ${p.ca.cert} exists: refusing to replace the CA`);
    } finally {
      fs.writeFileSync(p.ca.key, keyText, { mode: 0o600 });
    }
  });
});

describe('lab profile and options', () => {
  const tmp = tempDir('sstt-pki-lab-');
  afterAll(() => tmp.remove());

  it('constrains the CA to the domain and the LAN only; no loopback names; key size 3072 selectable', async () => {
    const config = path.join(tmp.dir, 'sstt.config.json');
    fs.writeFileSync(config, JSON.stringify({ profile: 'lab', pki: { keySize: 3072, p12Password: 'otra clave' } }));
    const s = loadScenario({ env: { SSTT_CERTS_DIR: path.join(tmp.dir, 'certs') }, flags: {}, configFile: config });
    await initPki(s);
    const ca = await text(certPaths(s).ca.cert);
    expect(ca).toContain('Public-Key: (3072 bit)');
    expect(ca).not.toContain('127.0.0.0');
    expect(ca).not.toContain('DNS:localhost');
    const server = await text(certPaths(s).server.cert);
    expect(server).not.toContain('127.0.0.1');
    const p12 = await run(openssl, ['pkcs12', '-info', '-in', certPaths(s).client(s.users[0]!.name).p12, '-passin', 'pass:otra clave', '-noout']);
    expect(p12.code, p12.stderr).toBe(0);
  });
});

describe('sstt-pki CLI', () => {
  const tmp = tempDir('sstt-pki-cli-');
  afterAll(() => tmp.remove());
  const env = { ...process.env, SSTT_CERTS_DIR: path.join(tmp.dir, 'certs'), SSTT_DATA_DIR: path.join(tmp.dir, 'var') };
  const cli = (...args: string[]) => run(process.execPath, [BIN, ...args], { env, cwd: tmp.dir });

  it('init prints where the CA and the bundles are and how to import them; --password rewrites the bundles', async () => {
    const r = await cli('init');
    expect(r.code, r.stderr).toBe(0);
    const s = scenarioIn(tmp.dir);
    expect(r.stdout).toContain(`CA certificate (import as an authority): ${certPaths(s).ca.cert}\n`);
    for (const u of s.users) expect(r.stdout).toContain(`    ${certPaths(s).client(u.name).p12}  (${u.email})\n`);
    expect(r.stdout).toContain(`password "${s.pki.p12Password}"`);
    expect(r.stdout).toMatch(/^Firefox: /m);
    expect(r.stdout).toMatch(/^Chromium\/Chrome: /m);
    expect(r.stdout).toMatch(/^Thunderbird: /m);

    const p12 = certPaths(s).client(s.users[0]!.name).p12;
    const changed = await cli('init', '--password', 'nueva clave');
    expect(changed.stdout).toContain(`rewrote ${p12} with the configured password`);
    expect(changed.stdout).toContain('password "nueva clave"');
    expect((await run(openssl, ['pkcs12', '-info', '-in', p12, '-passin', 'pass:nueva clave', '-noout'])).code).toBe(0);
    const bad = await cli('init', '--key-size', '1024');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('sstt-pki: command line: --key-size: expected 2048, 3072, 4096, found "1024"\n');
  });

  it('list, revoke, export; bad input is one line and exit 2', async () => {
    const s = scenarioIn(tmp.dir);
    const u = s.users[0]!;
    expect((await cli('revoke', u.name)).code).toBe(0);
    const list = await cli('list');
    expect(list.stdout).toMatch(new RegExp(`^${u.name}\\s+revoked\\s+until \\d{4}-\\d\\d-\\d\\d  C=ES, ST=Murcia, O=UMU`, 'm'));
    expect(list.stdout).toContain(`SAN email:${u.email}`);
    const out = path.join(tmp.dir, 'x.p12');
    const exp = await cli('export', 'ipsec-client', '--password', 'p4ss', '--out', out);
    expect(exp.stdout.trim()).toBe(`wrote ${out}`);
    expect((await run(openssl, ['pkcs12', '-info', '-in', out, '-passin', 'pass:p4ss', '-noout'])).code).toBe(0);
    const bad = await cli('revoke', 'nobody');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe(
      `sstt-pki: no certificate called "nobody": expected one of server, ${s.users.map((x) => x.name).join(', ')}, ipsec-server, ipsec-client\n`,
    );
    const unknown = await cli('frobnicate');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe('sstt-pki: unknown command "frobnicate"; expected init, list, revoke, renew or export\n');
    expect(EKU.ipsecIke).toBe('1.3.6.1.5.5.8.2.2');
  });
});
