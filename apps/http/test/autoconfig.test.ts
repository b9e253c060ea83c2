// Thunderbird's autoconfig, as Thunderbird fetches it (curl): both paths, with and without the
// query Thunderbird adds, the ISPDB fields of this scenario, no lab cookie, HEAD without a body.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { autoconfigXml } from '@sstt/scenario';
import { requireTool, run } from '@sstt/testkit';
import { createWorld, type Running, type World } from './world.ts';

let w: World;
let server: Running;
let base: string;

beforeAll(async () => {
  w = await createWorld();
  server = await w.start({});
  base = `http://127.0.0.1:${server.byName('tcp').port}`;
}, 60_000);

afterAll(async () => {
  await w?.cleanup();
});

describe('mail client autoconfig', () => {
  for (const p of ['/mail/config-v1.1.xml', '/.well-known/autoconfig/mail/config-v1.1.xml', '/mail/config-v1.1.xml?emailaddress=nombre1%40example']) {
    it(`GET ${p}: the scenario's ISPDB file, application/xml, no cookie`, async () => {
      const r = await run(requireTool('curl'), ['-sS', '-D', '-', `${base}${p}`]);
      const [head, body = ''] = r.stdout.split('\r\n\r\n');
      expect(head).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      expect(head).toMatch(/\r\nContent-Type: application\/xml; charset=utf-8\r\n/i);
      expect(head).not.toMatch(/Set-Cookie/i);
      expect(body).toBe(autoconfigXml(w.s));
      const s = w.s;
      expect(body).toContain(`<emailProvider id="${s.domain}">`);
      // IMAP is offered first, POP3 after it.
      expect(body.indexOf(`<incomingServer type="imap">`)).toBeLessThan(body.indexOf(`<incomingServer type="pop3">`));
      expect(body).toContain(`<hostname>${s.listen.address}</hostname>\n      <port>${s.listen.ports.imap}</port>`);
      expect(body).toContain(`<port>${s.listen.ports.imaps}</port>\n      <socketType>SSL</socketType>`);
      expect(body).toContain(`<hostname>${s.listen.address}</hostname>\n      <port>${s.listen.ports.pop3}</port>`);
      expect(body).toContain(`<port>${s.listen.ports.pop3s}</port>\n      <socketType>SSL</socketType>`);
      expect(body).toContain(`<port>${s.listen.ports.submission}</port>\n      <socketType>STARTTLS</socketType>`);
      expect(body).toContain('<username>%EMAILLOCALPART%</username>');
    });
  }

  it('HEAD gives the length without the body', async () => {
    const r = await run(requireTool('curl'), ['-sS', '-I', `${base}/mail/config-v1.1.xml`]);
    expect(r.stdout).toMatch(new RegExp(`\\r\\nContent-Length: ${Buffer.byteLength(autoconfigXml(w.s))}\\r\\n`, 'i'));
  });

  it('POST is not allowed there', async () => {
    const r = await run(requireTool('curl'), ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '-X', 'POST', '-d', 'x=1', `${base}/mail/config-v1.1.xml`]);
    expect(r.stdout).toBe('405');
  });
});
