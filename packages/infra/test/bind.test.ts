// The BIND generator: named-checkzone and named-checkconf accept what it writes, BIND loads the
// records and the serial of the scenario's zones, and infra/bind holds the files for the default
// scenario.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mintDkimKey } from '@sstt/pki';
import { loadScenario, recordText, scenarioZones, soaOf, type Scenario } from '@sstt/scenario';
import { requireTool, run, tempDir } from '@sstt/testkit';
import { bindZones, generateBind } from '../src/bind/index.ts';

const tmp = tempDir('sstt-infra-bind-');
afterAll(() => tmp.remove());

function scenario(env: Record<string, string> = {}): Scenario {
  return loadScenario({
    env: { SSTT_CERTS_DIR: path.join(tmp.dir, 'certs'), SSTT_DATA_DIR: path.join(tmp.dir, 'data'), ...env },
    flags: {},
    configFile: undefined,
    resolvConfPath: '/nonexistent/resolv.conf',
  });
}

// With the DKIM keys minted (certs/dkim): the zone carries every record it can.
const keyless = scenario({ SSTT_PROFILE: 'lab' });
for (const k of keyless.mail.auth.dkim) mintDkimKey(keyless, k);
const lab = scenario({ SSTT_PROFILE: 'lab' });

function writeAll(files: Map<string, string>, dir: string): void {
  for (const [rel, text] of files) {
    fs.mkdirSync(path.join(dir, path.dirname(rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
}

describe('BIND files', () => {
  it('named-checkzone accepts both zones and loads the expected records', async () => {
    const dir = path.join(tmp.dir, 'check');
    writeAll(generateBind(lab), dir);
    const serials = new Map(scenarioZones(lab).map((z) => [z.origin, soaOf(z).serial]));
    for (const z of bindZones(lab)) {
      const r = await run(requireTool('named-checkzone'), ['-D', z.origin, path.join(dir, z.relPath)]);
      expect(r.code, r.stderr + r.stdout).toBe(0);
      const records = r.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(/\s+/).join(' '));
      if (z.origin === lab.domain) {
        const d = lab.domain;
        for (const n of lab.names) expect(records).toContain(`${n.fqdn}. 3600 IN A ${n.address}`);
        expect(records).toContain(`${d}. 3600 IN NS dns.${d}.`);
        expect(records).toContain(`${d}. 3600 IN MX 10 smtp.${d}.`);
        expect(records).toContain(`${d}. 3600 IN SOA dns.${d}. hostmaster.${d}. ${serials.get(d)} 3600 900 604800 300`);
        expect(records).toContain(`_submission._tcp.${d}. 3600 IN SRV 0 1 ${lab.listen.ports.submission} smtp.${d}.`);
        expect(records).toContain(`_imap._tcp.${d}. 3600 IN SRV 0 1 ${lab.listen.ports.imap} mail.${d}.`);
        expect(records).toContain(`_imaps._tcp.${d}. 3600 IN SRV 0 1 ${lab.listen.ports.imaps} mail.${d}.`);
        expect(records).toContain(`_pop3._tcp.${d}. 3600 IN SRV 10 1 ${lab.listen.ports.pop3} pop.${d}.`);
        expect(records).toContain(`_pop3s._tcp.${d}. 3600 IN SRV 10 1 ${lab.listen.ports.pop3s} pop.${d}.`);
        expect(records).toContain(`autoconfig.${d}. 3600 IN CNAME www.${d}.`);
        // SPF, both DKIM keys (the RSA one in several <character-string>s) and DMARC, as the value has them.
        const txt = scenarioZones(lab)[0]!.records.filter((r) => r.type === 'TXT');
        expect(txt.map((r) => r.name)).toEqual([d, `rsa._domainkey.${d}`, `ed25519._domainkey.${d}`, `_dmarc.${d}`]);
        for (const r of txt) expect(records).toContain(recordText(r).split(/\s+/).join(' '));
      } else {
        const last = (a: string) => a.split('.').at(-1);
        expect(records).toContain(`${last(lab.network.server)}.${z.origin}. 3600 IN PTR servidor.${lab.domain}.`);
        expect(records).toContain(`${last(lab.network.client)}.${z.origin}. 3600 IN PTR cliente.${lab.domain}.`);
        expect(records).toContain(`${z.origin}. 3600 IN SOA dns.${lab.domain}. hostmaster.${lab.domain}. ${serials.get(z.origin)} 3600 900 604800 300`);
      }
    }
  });

  it('named-checkconf accepts named.conf.options and named.conf.local', async () => {
    const dir = path.join(tmp.dir, 'conf');
    writeAll(generateBind(lab), dir);
    for (const f of ['named.conf.options', 'named.conf.local']) {
      const r = await run(requireTool('named-checkconf'), [path.join(dir, 'bind', f)]);
      expect(r.code, `${f}: ${r.stderr}${r.stdout}`).toBe(0);
    }
    // A whole Debian-style named.conf including both, with the zone files where it looks for them.
    const zonesDir = path.join(dir, 'etc');
    fs.mkdirSync(zonesDir, { recursive: true });
    const local = fs.readFileSync(path.join(dir, 'bind', 'named.conf.local'), 'utf8').replaceAll('/etc/bind/', `${path.join(dir, 'bind')}/`);
    fs.writeFileSync(path.join(zonesDir, 'named.conf.local'), local);
    fs.writeFileSync(
      path.join(zonesDir, 'named.conf'),
      `include "${path.join(dir, 'bind', 'named.conf.options')}";\ninclude "${path.join(zonesDir, 'named.conf.local')}";\n`,
    );
    const all = await run(requireTool('named-checkconf'), ['-z', path.join(zonesDir, 'named.conf')]);
    expect(all.code, all.stderr + all.stdout).toBe(0);
    for (const z of scenarioZones(lab)) expect(all.stdout).toContain(`zone ${z.origin}/IN: loaded serial ${soaOf(z).serial}`);
  });

  it('options: the lab forwarders, allow-query of the LAN, recursion, minimal-responses no', () => {
    const text = generateBind(lab).get('bind/named.conf.options')!;
    for (const f of lab.dns.forwarders) expect(text).toContain(`\t\t${f.host};\n`);
    expect(text).toContain(`allow-query { ${lab.dns.allowQuery.map((a) => `${a};`).join(' ')} };`);
    expect(text).toContain('recursion yes;');
    expect(text).toContain('minimal-responses no;');
  });

  it('forwarders on another port are written with it', () => {
    const s = scenario({ SSTT_DNS_FORWARDERS: '127.0.0.1:5399' });
    expect(generateBind(s).get('bind/named.conf.options')).toContain('\t\t127.0.0.1 port 5399;\n');
  });
});

describe('the serial', () => {
  it('is the one of the zone data, written without reading a previous file', () => {
    for (const z of scenarioZones(lab)) {
      const text = bindZones(lab).find((f) => f.origin === z.origin)!.text;
      expect(/^\t+(\d+) ; serial$/m.exec(text)?.[1]).toBe(String(soaOf(z).serial));
    }
    // The dev profile's SRV ports differ: another forward zone, another serial; the reverse zone is the same.
    const dev = scenario({ SSTT_PROFILE: 'dev' });
    const [labFwd, labRev] = bindZones(lab);
    const [devFwd, devRev] = bindZones(dev);
    expect(/(\d+) ; serial/.exec(devFwd!.text)![1]).not.toBe(/(\d+) ; serial/.exec(labFwd!.text)![1]);
    expect(devRev!.text.replace(/profile dev/, 'profile lab')).toBe(labRev!.text);
  });
});

describe('infra/bind in the repository', () => {
  it("holds the files of the default lab scenario, up to date (without DKIM keys, which are each machine's)", () => {
    const files = generateBind(keyless);
    for (const [rel, text] of files) expect(fs.readFileSync(path.join(lab.paths.infra, rel), 'utf8'), rel).toBe(text);
  });
});
