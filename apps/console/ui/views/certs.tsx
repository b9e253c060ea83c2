// The certificates: the CA and every certificate with its status, the downloads, revoke and renew.
import { useState } from 'preact/hooks';
import { api, type CertificateList } from '../api.ts';
import { useApi } from '../hooks.ts';
import { ErrorBox, Loading } from '../parts.tsx';

export function CertsView() {
  const certs = useApi<CertificateList>('/certificates');
  const [busy, setBusy] = useState<string>();
  const [note, setNote] = useState<string>();
  const act = async (name: string, what: 'revoke' | 'renew') => {
    if (what === 'revoke' && !confirm(`Revoke ${name}? It goes on the CRL.`)) return;
    setBusy(name);
    try {
      await api(`/certificates/${encodeURIComponent(name)}/${what}`, { method: 'POST' });
      setNote(`${name}: ${what === 'revoke' ? 'revoked' : 'renewed'}.`);
      certs.reload();
    } catch (err) {
      setNote((err as Error).message);
    } finally {
      setBusy(undefined);
    }
  };
  return (
    <div class="certs">
      {certs.error && <ErrorBox error={certs.error} />}
      {!certs.data && !certs.error && <Loading what="the certificates" />}
      {certs.data && (
        <>
          <p>
            <a class="button" href={certs.data.caDownload} download="ca.crt">
              Download ca.crt
            </a>{' '}
            PKCS#12 password: <code data-testid="p12-password">{certs.data.p12Password}</code>
          </p>
          {note && <p class="notice">{note}</p>}
          <div class="scroll">
            <table class="grid">
              <thead>
                <tr>
                  <th>Name</th>
                  <th>Subject</th>
                  <th>SANs</th>
                  <th>Issuer</th>
                  <th>Valid</th>
                  <th>Status</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {certs.data.certificates.map((c) => (
                  <tr key={c.name} data-testid="cert-row">
                    <td>
                      {c.name} <span class="muted">({c.kind})</span>
                    </td>
                    <td>{c.subject ?? '—'}</td>
                    <td>{c.sans?.join(', ') || '—'}</td>
                    <td>{c.issuer ?? '—'}</td>
                    <td>{c.notAfter ? `${c.notBefore?.slice(0, 10) ?? ''} → ${c.notAfter.slice(0, 10)}` : '—'}</td>
                    <td class={`status ${c.status}`}>{c.status}</td>
                    <td class="actions">
                      {c.download && (
                        <a href={c.download} download>
                          .p12
                        </a>
                      )}
                      {c.kind !== 'ca' && (
                        <>
                          <button type="button" disabled={busy === c.name || c.status === 'revoked'} onClick={() => act(c.name, 'revoke')}>
                            Revoke
                          </button>
                          <button type="button" disabled={busy === c.name} onClick={() => act(c.name, 'renew')}>
                            Renew
                          </button>
                        </>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </div>
  );
}
