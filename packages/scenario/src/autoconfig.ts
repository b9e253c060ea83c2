// Thunderbird's autoconfig file (Mozilla's ISPDB format, "config-v1.1.xml") for the domain, from
// the scenario: with the zone's autoconfig name and the RFC 6186 SRV records, an account needs
// only the address and the password. In the dev profile the servers are this machine's loopback
// address and the dev ports; in the lab profile the zone's names and the standard ports.
import type { Scenario } from './scenario.ts';

/** Where Thunderbird asks (https?://autoconfig.<domain>/mail/config-v1.1.xml, then the domain's well-known path). */
export const AUTOCONFIG_PATHS = ['mail/config-v1.1.xml', '.well-known/autoconfig/mail/config-v1.1.xml'] as const;

const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function autoconfigXml(s: Scenario): string {
  const host = (label: string) => (s.profile === 'dev' ? s.listen.address : (s.names.find((n) => n.label === label)?.fqdn ?? s.domain));
  const p = s.listen.ports;
  const server = (tag: 'incomingServer' | 'outgoingServer', type: string, hostname: string, port: number, socketType: string, auth: string) =>
    [
      `    <${tag} type="${type}">`,
      `      <hostname>${xml(hostname)}</hostname>`,
      `      <port>${port}</port>`,
      `      <socketType>${socketType}</socketType>`,
      `      <authentication>${auth}</authentication>`,
      ...(auth === 'none' ? [] : ['      <username>%EMAILLOCALPART%</username>']),
      `    </${tag}>`,
    ].join('\n');
  // The lab reads the POP3 login in Wireshark on purpose: with plain-text logins allowed, POP3
  // without TLS comes first (Thunderbird takes the first entry it can use); otherwise STARTTLS.
  const pop3 = s.mail.plaintextAuth
    ? [
        server('incomingServer', 'pop3', host('pop'), p.pop3, 'plain', 'password-cleartext'),
        server('incomingServer', 'pop3', host('pop'), p.pop3, 'STARTTLS', 'password-cleartext'),
      ]
    : [server('incomingServer', 'pop3', host('pop'), p.pop3, 'STARTTLS', 'password-cleartext')];
  // IMAP first (folders, live updates: what Thunderbird picks when offered), POP3 as the alternative.
  const imap = s.mail.plaintextAuth
    ? [
        server('incomingServer', 'imap', host('mail'), p.imap, 'plain', 'password-cleartext'),
        server('incomingServer', 'imap', host('mail'), p.imap, 'STARTTLS', 'password-cleartext'),
      ]
    : [server('incomingServer', 'imap', host('mail'), p.imap, 'STARTTLS', 'password-cleartext')];
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<clientConfig version="1.1">',
    `  <emailProvider id="${xml(s.domain)}">`,
    `    <domain>${xml(s.domain)}</domain>`,
    `    <displayName>${xml(s.domain)} (Servicios Telemáticos lab)</displayName>`,
    `    <displayShortName>sstt${xml(s.id)}</displayShortName>`,
    ...imap,
    server('incomingServer', 'imap', host('mail'), p.imaps, 'SSL', 'password-cleartext'),
    ...pop3,
    server('incomingServer', 'pop3', host('pop'), p.pop3s, 'SSL', 'password-cleartext'),
    server('outgoingServer', 'smtp', host('smtp'), p.submission, 'STARTTLS', 'password-cleartext'),
    server('outgoingServer', 'smtp', host('smtp'), p.smtp, s.mail.plaintextAuth ? 'plain' : 'STARTTLS', 'none'),
    '    <pop3>',
    '      <leaveMessagesOnServer>false</leaveMessagesOnServer>',
    '    </pop3>',
    '  </emailProvider>',
    '</clientConfig>',
    '',
  ].join('\n');
}
