// A message's authentication verdicts in the message view: our server's Authentication-Results
// (RFC 8601) as one chip per method, with the domain and selector of each DKIM signature, the
// identity SPF checked, DMARC's policy, and the reason of a failure; the DNS view lists the
// queries they were made from. Its own file so the message view only places it.
import type { AuthResults, AuthVerdict } from '../api.ts';
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

export function AuthVerdicts({ auth }: { auth: AuthResults | null | undefined }) {
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
          </span>
        );
      })}
      <a href="#/dns" data-testid="auth-dns" title="The DNS queries (SPF, DKIM keys, DMARC) are in the DNS view's recent queries">
        DNS queries
      </a>
    </p>
  );
}
