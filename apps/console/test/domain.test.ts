// The console's DNS, certificates and compose views through the API: a dig (the real client)
// shows in the recent queries with its sections, the dig box asks our DNS, the certificates of
// packages/pki are listed, downloaded, revoked and renewed, and compose sends through our
// submission service as a user of the domain.
import fs from 'node:fs';
import { initPki } from '@sstt/pki';
import { certPaths } from '@sstt/scenario';
import { createSmtpServer } from '@sstt/mail';
import { run, startServer } from '@sstt/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorld, type World } from './world.ts';

let w: World;
beforeAll(async () => {
  w = await startWorld();
});
afterAll(async () => {
  await w?.close();
});

describe('DNS', () => {
  it('a query made with dig shows in the recent queries with its rcode and sections', async () => {
    const name = `www.${w.s.domain}`;
    const r = await run('dig', ['@127.0.0.1', '-p', String(w.dns.port), name, 'A', '+short']);
    expect(r.stdout.trim()).toBe(w.s.names.find((n) => n.label === 'www')!.address);
    await run('dig', ['@127.0.0.1', '-p', String(w.dns.port), `nothere.${w.s.domain}`, 'A']);
    type Q = { id: string; summary: string; rcode: string };
    const queries = await w.until(async () => {
      w.console.pollJournal();
      const q = (await w.api<{ queries: Q[] }>('/api/v1/dns/queries')).body.queries;
      return q.length >= 2 && q;
    }, 'the two queries');
    expect(queries.map((q) => [q.summary, q.rcode])).toEqual([
      [`nothere.${w.s.domain} A → NXDOMAIN`, 'NXDOMAIN'],
      [`${name} A → NOERROR`, 'NOERROR'],
    ]);
    const one = (await w.api<{ dnsText: string[] }>(`/api/v1/sessions/${queries[1]!.id}`)).body;
    expect(one.dnsText).toContain(';; ANSWER SECTION:');
    expect(one.dnsText).toContain(`${name}.\t3600\tIN\tA\t${w.s.names.find((n) => n.label === 'www')!.address}`);
    expect(one.dnsText).toContain(';; AUTHORITY SECTION:');
  });

  it('the dig box asks our DNS and shows the sections; bad input is refused', async () => {
    const r = await w.api<{ rcode: string; text: string[] }>(`/api/v1/dns/dig?name=${w.s.domain}&type=MX`);
    expect(r.status).toBe(200);
    expect(r.body.rcode).toBe('NOERROR');
    expect(r.body.text).toContain(`${w.s.domain}.\t3600\tIN\tMX\t10 smtp.${w.s.domain}.`);
    expect(await w.api('/api/v1/dns/dig?name=x&type=HINFO')).toMatchObject({
      status: 400,
      body: { error: 'type: expected one of A, AAAA, NS, MX, SOA, CNAME, PTR, SRV, TXT, ANY, got "HINFO"' },
    });
    expect(await w.api('/api/v1/dns/dig?name=a%20b')).toMatchObject({
      status: 400,
      body: { error: 'name: expected a domain name (letters, digits, "_", "-" and ".", at most 253)' },
    });
  });

  it('the zone table holds the zone and the reverse zone', async () => {
    const { records } = (await w.api<{ records: Array<{ name: string; type: string; data: string }> }>('/api/v1/dns/zone')).body;
    expect(records).toContainEqual(expect.objectContaining({ name: `${w.s.domain}.`, type: 'SOA' }));
    expect(records).toContainEqual(expect.objectContaining({ name: `${w.s.domain}.`, type: 'MX', data: `10 smtp.${w.s.domain}.` }));
    expect(records).toContainEqual(expect.objectContaining({ name: `102.${w.s.network.reverseZone}.`, type: 'PTR', data: `servidor.${w.s.domain}.` }));
  });
});

describe('certificates', () => {
  type Cert = { name: string; status: string; subject?: string; issuer?: string; sans?: string[]; download?: string };
  const certs = async () => (await w.api<{ certificates: Cert[]; p12Password: string }>('/api/v1/certificates')).body;

  it('lists, downloads, revokes and renews through packages/pki', async () => {
    await initPki(w.s);
    const c = await certs();
    expect(c.p12Password).toBe(w.s.pki.p12Password);
    const u = w.s.users[0]!.name;
    const mine = c.certificates.find((x) => x.name === u)!;
    expect(mine.status).toBe('valid');
    expect(mine.issuer).toBe(c.certificates.find((x) => x.name === 'ca')!.subject);
    expect(c.certificates.find((x) => x.name === 'server')!.sans).toContain(`DNS:www.${w.s.domain}`);
    const ca = await fetch(`${w.base}/api/v1/certificates/ca.crt`);
    expect(Buffer.from(await ca.arrayBuffer()).equals(fs.readFileSync(certPaths(w.s).ca.cert))).toBe(true);
    const p12 = await fetch(`${w.base}${mine.download}`);
    expect(Buffer.from(await p12.arrayBuffer()).equals(fs.readFileSync(certPaths(w.s).client(u).p12))).toBe(true);

    expect(await w.api(`/api/v1/certificates/${u}/revoke`, { method: 'POST' })).toMatchObject({ status: 200, body: { revoked: u } });
    expect((await certs()).certificates.find((x) => x.name === u)!.status).toBe('revoked');
    expect(await w.api(`/api/v1/certificates/${u}/renew`, { method: 'POST' })).toMatchObject({ status: 200, body: { renewed: [u] } });
    expect((await certs()).certificates.find((x) => x.name === u)!.status).toBe('valid');
    const bad = await w.api<{ error: string }>('/api/v1/certificates/nobody/revoke', { method: 'POST' });
    expect(bad.status).toBe(404);
    expect(bad.body.error).toMatch(/^no certificate called "nobody": expected one of /);
  });

  it('keeps answering while it renews: the PKI work is off its event loop', async () => {
    await initPki(w.s);
    const u = w.s.users[1]!.name;
    const done: string[] = [];
    const renew = w.api(`/api/v1/certificates/${u}/renew`, { method: 'POST' }).then((r) => {
      done.push('renew');
      return r;
    });
    // The console has begun the job (key generation, signing, PKCS#12) when it says so.
    await w.logs.waitFor((l) => l.msg === 'certificate job started' && l.obj.op === 'renew' && l.obj.name === u);
    const mailboxes = await w.api<{ mailboxes: unknown[] }>('/api/v1/mailboxes');
    done.push('mailboxes');
    expect(mailboxes.status).toBe(200);
    expect(mailboxes.body.mailboxes).toHaveLength(w.s.users.length);
    expect(await renew).toMatchObject({ status: 200, body: { renewed: [u] } });
    // Answered while the job was running, not after it.
    expect(done).toEqual(['mailboxes', 'renew']);
    await w.logs.waitFor((l) => l.msg === 'certificate job done' && l.obj.name === u);
  });
});

describe('compose', () => {
  it('sends as a user through the submission service: delivered, and in the timeline', async () => {
    const [a, b] = w.s.users;
    const sent = await w.api<{ accepted: string[]; response: string }>('/api/v1/send', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ from: a!.name, to: b!.email, subject: 'composed in the console', text: 'hi' }),
    });
    expect(sent.status).toBe(200);
    expect(sent.body.accepted).toEqual([b!.email]);
    expect(sent.body.response).toMatch(/^250 OK id=/);
    const m = await w.until(
      async () =>
        (await w.api<{ messages: Array<{ subject: string; from: string }> }>(`/api/v1/mailboxes/${b!.name}/messages`)).body.messages.find(
          (x) => x.subject === 'composed in the console',
        ),
      'the composed message',
    );
    expect(m.from).toBe(`${a!.firstName} <${a!.email}>`);
    const s = await w.until(async () => {
      w.console.pollJournal();
      return (await w.api<{ sessions: Array<{ user?: string; end: number | null }> }>('/api/v1/sessions?protocol=submission')).body.sessions.find(
        (x) => x.end !== null,
      );
    }, 'the submission session');
    expect(s.user).toBe(a!.name);
  });

  it('refuses a sender who is not a user, and a missing recipient', async () => {
    const post = (body: object) => w.api('/api/v1/send', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    expect(await post({ from: 'mallory', to: 'x@y.z' })).toMatchObject({
      status: 422,
      body: { error: `from: expected one of ${w.s.users.map((u) => u.name).join(', ')}` },
    });
    expect(await post({ from: w.s.users[0]!.name, to: '' })).toMatchObject({ status: 422, body: { error: 'to: at least one recipient' } });
    expect(await post({ from: w.s.users[0]!.name, to: 'not an address' })).toMatchObject({
      status: 422,
      body: { error: 'to: "not an address" is not an address' },
    });
  });
});

describe('TLS in the timeline', () => {
  it('STARTTLS shows as an event of the SMTP dialogue, with version and cipher', async () => {
    await initPki(w.s);
    const p = certPaths(w.s);
    const smtps = await startServer(
      createSmtpServer({
        scenario: w.s,
        host: '127.0.0.1',
        port: 0,
        tls: { key: fs.readFileSync(p.server.key), cert: fs.readFileSync(p.server.cert) },
        journal: w.journal,
      }),
    );
    try {
      const [a, b] = w.s.users;
      const r = await run('swaks', [
        '--server',
        `127.0.0.1:${smtps.port}`,
        '--tls',
        '--tls-ca-path',
        p.ca.cert,
        '--from',
        a!.email,
        '--to',
        b!.email,
        '--header',
        'Subject: over tls',
      ]);
      expect(r.code, r.stdout).toBe(0);
      type S = { id: string; end: number | null; tls: { version: string; cipher: string } | null };
      const s = await w.until(async () => {
        w.console.pollJournal();
        return (await w.api<{ sessions: S[] }>('/api/v1/sessions?protocol=smtp')).body.sessions.find((x) => x.tls && x.end !== null);
      }, 'the STARTTLS session');
      expect(s.tls!.version).toMatch(/^TLSv1\.[23]$/);
      const lines = (await w.api<{ lines: Array<{ dir: string; text: string }> }>(`/api/v1/sessions/${s.id}`)).body.lines;
      const i = lines.findIndex((l) => l.dir === 'tls');
      expect(lines[i - 2]).toEqual(expect.objectContaining({ dir: 'c', text: 'STARTTLS' }));
      expect(lines[i - 1]).toEqual(expect.objectContaining({ dir: 's', text: '220 TLS go ahead' }));
      expect(lines[i]!.text).toBe(`TLS ${s.tls!.version} ${s.tls!.cipher}`);
      expect(lines[i + 1]).toEqual(expect.objectContaining({ dir: 'c' }));
      expect(lines[i + 1]!.text).toMatch(/^EHLO /);
    } finally {
      await smtps.close();
    }
  });
});
