// The autoconfig file from the scenario: dev (loopback, dev ports) and lab (the zone's names,
// standard ports), plain POP3 first only while plain-text logins are allowed.
import { describe, expect, it } from 'vitest';
import { autoconfigXml } from '../src/autoconfig.ts';
import { loadScenario } from '../src/load.ts';

/** The servers of the file, in order, as "type host:port socketType auth". */
function servers(text: string): string[] {
  return [
    ...text.matchAll(
      /<(?:incoming|outgoing)Server type="(\w+)">\s*<hostname>([^<]+)<\/hostname>\s*<port>(\d+)<\/port>\s*<socketType>(\w+)<\/socketType>\s*<authentication>([\w-]+)<\/authentication>/g,
    ),
  ].map((m) => `${m[1]} ${m[2]}:${m[3]} ${m[4]} ${m[5]}`);
}

describe('autoconfigXml', () => {
  it('dev profile: this machine and the dev ports', () => {
    const s = loadScenario({ env: {}, resolvConfPath: '/dev/null', configFile: undefined });
    const a = s.listen.address;
    const p = s.listen.ports;
    // IMAP first (RFC 6186 §3.4's preference, Thunderbird takes the first it can use), POP3 the alternative.
    expect(servers(autoconfigXml(s))).toEqual([
      `imap ${a}:${p.imap} plain password-cleartext`,
      `imap ${a}:${p.imap} STARTTLS password-cleartext`,
      `imap ${a}:${p.imaps} SSL password-cleartext`,
      `pop3 ${a}:${p.pop3} plain password-cleartext`,
      `pop3 ${a}:${p.pop3} STARTTLS password-cleartext`,
      `pop3 ${a}:${p.pop3s} SSL password-cleartext`,
      `smtp ${a}:${p.submission} STARTTLS password-cleartext`,
      `smtp ${a}:${p.smtp} plain none`,
    ]);
  });

  it('lab profile: the zone names and the standard ports; STARTTLS first without plain-text logins', () => {
    const s = loadScenario({ env: { SSTT_PROFILE: 'lab', SSTT_MAIL_PLAINTEXT_AUTH: '0' }, resolvConfPath: '/dev/null', configFile: undefined });
    const name = (l: string) => s.names.find((n) => n.label === l)!.fqdn;
    const p = s.listen.ports;
    expect([p.imap, p.imaps, p.pop3, p.pop3s, p.submission, p.smtp]).toEqual([143, 993, 110, 995, 587, 25]); // the lab profile's standard ports
    expect(servers(autoconfigXml(s))).toEqual([
      `imap ${name('mail')}:${p.imap} STARTTLS password-cleartext`,
      `imap ${name('mail')}:${p.imaps} SSL password-cleartext`,
      `pop3 ${name('pop')}:${p.pop3} STARTTLS password-cleartext`,
      `pop3 ${name('pop')}:${p.pop3s} SSL password-cleartext`,
      `smtp ${name('smtp')}:${p.submission} STARTTLS password-cleartext`,
      `smtp ${name('smtp')}:${p.smtp} STARTTLS none`,
    ]);
    expect(autoconfigXml(s)).toContain(`<domain>${s.domain}</domain>`);
  });
});
