// The TLS gate seen by a scripted client: without a valid client certificate of the lab CA no
// HTTP byte ever comes back, whatever the client sends; with one, both TLS 1.2 and 1.3 work and
// the server presents a certificate for www.<domain> that chains to the lab CA.
import fs from 'node:fs';
import path from 'node:path';
import type tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawTls, type RawClient } from '@sstt/testkit';
import { revokeCertificate } from '@sstt/pki';
import { expiredClientCert, foreignClientCert } from './certs.ts';
import { expectStatus } from './expect.ts';
import { readResponse, req } from './wire.ts';
import { createWorld, type Running, type World } from './world.ts';

let w: World;
let server: Running;
let foreign: tls.ConnectionOptions;
let expired: tls.ConnectionOptions;

beforeAll(async () => {
  w = await createWorld();
  server = await w.start({});
  const f = await foreignClientCert(path.join(w.dir, 'foreign'), `/C=ES/ST=Murcia/O=UMU/CN=${w.s.users[0]!.firstName}`);
  foreign = { ...w.tlsClient(null), cert: fs.readFileSync(f.cert), key: fs.readFileSync(f.key) };
  const e = await expiredClientCert(path.join(w.dir, 'expired'), w.certs.paths, w.certs.good);
  expired = { ...w.tlsClient(null), cert: fs.readFileSync(e.cert), key: fs.readFileSync(e.key) };
}, 60_000);

afterAll(async () => {
  await w?.cleanup();
});

/** Connects, sends a GET if the handshake lets it, and returns every byte the server sent back. */
async function attempt(options: tls.ConnectionOptions): Promise<{ handshake: boolean; reply: string }> {
  let c: RawClient;
  try {
    c = await rawTls(server.byName('tls').port, options);
  } catch {
    return { handshake: false, reply: '' };
  }
  c.write(req('GET', '/a.txt', { Host: w.www }));
  const rest = await c.readToEnd(5000);
  return { handshake: true, reply: rest.toString('latin1') };
}

describe('refused at the TLS layer', () => {
  const cases: Array<[string, () => tls.ConnectionOptions]> = [
    ['no client certificate', () => w.tlsClient(null)],
    ['a revoked client certificate', () => w.tlsClient(w.certs.revoked)],
    ['a client certificate from another CA', () => foreign],
    ['an expired client certificate of the lab CA', () => expired],
  ];
  for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
    it.each(cases)(`${version}: %s → no HTTP response at all`, async (_label, opts) => {
      const r = await attempt({ ...opts(), minVersion: version, maxVersion: version });
      // Decision: what counts is that no HTTP byte is ever sent. node:tls checks the client
      // certificate when its handshake completes and then drops the socket, so even under
      // TLS 1.2 the client may see its handshake finish before the connection closes.
      expect(r.reply).toBe('');
    });
  }
});

describe('protocol versions', () => {
  it('TLS 1.1 is refused by the server (protocol_version alert), even with a valid client certificate', async () => {
    // SECLEVEL=0 lets this client offer TLS 1.1 at all, so the refusal is the server's.
    const err = await rawTls(server.byName('tls').port, { ...w.tlsClient(), minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' }).then(
      (c) => {
        c.destroy();
        return undefined;
      },
      (e: Error) => e,
    );
    expect(err?.message).toMatch(/alert protocol version/);
  });
});

describe('accepted with the lab client certificate', () => {
  it.each(['TLSv1.2', 'TLSv1.3'] as const)('%s: 200, server certificate for www.<domain> verified against the lab CA', async (version) => {
    const c = await rawTls(server.byName('tls').port, { ...w.tlsClient(), minVersion: version, maxVersion: version });
    const sock = c.socket as tls.TLSSocket;
    expect(sock.getProtocol()).toBe(version);
    expect(sock.authorized).toBe(true);
    expect(sock.getPeerCertificate().subject.CN).toBe(w.www);
    c.write(req('GET', '/a.txt', { Host: w.www }));
    expectStatus(await readResponse(c), 200);
    c.destroy();
  });

  it('the server keeps serving after a burst of refused handshakes', async () => {
    await Promise.all(Array.from({ length: 20 }, () => attempt(w.tlsClient(null))));
    const c = await server.byName('tls').connect();
    c.write(req('GET', '/a.txt', { Host: w.www }));
    expectStatus(await readResponse(c), 200);
    c.destroy();
  });
});

// Last in the file: it revokes the certificate every other test of this file uses.
describe('revocation while running', () => {
  it('after updateTls with the new CRL, the just-revoked certificate is refused and open connections are not disturbed', async () => {
    const before = await server.byName('tls').connect();
    before.write(req('GET', '/a.txt', { Host: w.www }));
    expectStatus(await readResponse(before), 200);
    await revokeCertificate(w.s, w.certs.good);
    const p = w.certs.paths;
    server.server.updateTls({
      cert: fs.readFileSync(p.server.cert),
      key: fs.readFileSync(p.server.key),
      ca: fs.readFileSync(p.ca.cert),
      crl: fs.readFileSync(p.crl),
    });
    const r = await attempt(w.tlsClient());
    expect(r.reply).toBe('');
    // The connection made before the revocation keeps working until it ends.
    before.write(req('GET', '/a.txt', { Host: w.www }));
    expectStatus(await readResponse(before), 200);
    before.destroy();
  });
});
