// A message's authentication verdicts in the message view: our server's Authentication-Results
// (RFC 8601) as one chip per method, with the domain and selector of each DKIM signature, the
// identity SPF checked, DMARC's policy, and the reason of a failure; each links to the DNS view's
// queries for the record it was read from, before our server accepted the message. Its own file
// so the message view only places it.
import type { AuthResults, AuthVerdict, DnsQuestion } from '../api.ts';
import { failed } from '../../src/auth-results.ts';

/** What a verdict was about: DKIM's domain and selector, SPF's identity, DMARC's From domain. */
function about(v: AuthVerdict): string {
  const p = v.props;
  if (v.method === 'dkim') {
    const d = p['header.d'] ?? p['header.i']?.replace(/^.*@/, '');
    return [d, p['header.s'] && `s=${p['header.s']}`].filter(Boolean).join(' ');
  }
  if (v.method === 'spf') return p['smtp.mailfrom'] ? `MAIL FROM ${p['smtp.mailfrom']}` : p['smtp.helo'] ? `HELO ${p['smtp.helo']}` : '';
  if (v.method === 'dmarc') return [p['header.from'], v.reason].filter(Boolean).join(', ');
  return '';
}

/** The DNS view's link for a verdict's record: its queries, before message `smtpId` was accepted. */
export function dnsLink(q: DnsQuestion, smtpId: string | undefined): string {
  const p = new URLSearchParams({ name: q.name, type: q.type, ...(smtpId ? { smtpId } : {}) });
  return `#/dns?${p}`;
}

export function AuthVerdicts({ auth, smtpId }: { auth: AuthResults | null | undefined; smtpId?: string | undefined }) {
  if (!auth)
    return (
      <p class="auth muted" data-testid="auth">
        Not checked: no Authentication-Results of our server.
      </p>
    );
  return (
    <p class="auth" data-testid="auth">
      {auth.verdicts.map((v, i) => {
        const bad = failed(v);
        const what = about(v);
        return (
          <span
            key={i}
            class={`verdict ${bad ? 'bad' : v.result === 'pass' ? 'good' : ''}`}
            data-testid="verdict"
            data-method={v.method}
            data-result={v.result}
          >
            <b>{v.method.toUpperCase()}</b> {v.result}
            {what && <span class="muted"> ({what})</span>}
            {bad && v.reason && v.method !== 'dmarc' && <span class="reason">: {v.reason}</span>}
            {v.dns.map((q) => (
              <a
                key={`${q.name} ${q.type}`}
                class="verdict-dns"
                href={dnsLink(q, smtpId)}
                data-testid="verdict-dns"
                title={`The DNS queries for ${q.name} ${q.type} made before the message was accepted`}
              >
                {' '}
                DNS
              </a>
            ))}
          </span>
        );
      })}
    </p>
  );
}
