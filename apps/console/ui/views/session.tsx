// One session as its dialogue (C: and S: lines, TLS as an event; a DNS exchange in dig's
// sections), secrets masked unless revealed, linked to the messages it delivered.
import { useState } from 'preact/hooks';
import type { Session } from '../api.ts';
import { stamp } from '../format.ts';
import { useApi } from '../hooks.ts';
import { useLive } from '../live.ts';
import { ErrorBox, Loading } from '../parts.tsx';

export function SessionView({ id }: { id: string }) {
  const [reveal, setReveal] = useState(false);
  const s = useApi<Session>(`/sessions/${encodeURIComponent(id)}${reveal ? '?reveal=1' : ''}`);
  useLive((e) => e.type === 'session' && e.data.id === id && s.reload());
  const d = s.data;
  return (
    <article class="dialogue" data-testid="session" aria-label="Session">
      <a class="back" href="#/sessions">
        ← Back
      </a>
      {s.error && <ErrorBox error={s.error} />}
      {!d && !s.error && <Loading what="the session" />}
      {d && (
        <>
          <header>
            <h2>
              {d.protocol.toUpperCase()} {d.client} → {d.local || 'server'}
            </h2>
            <p class="muted">
              {new Date(d.start).toLocaleString()}
              {d.end ? `, ${d.end - d.start} ms` : ', still open'}
              {d.user ? `, user ${d.user}` : ''}
            </p>
            {d.messages.length > 0 && (
              <p>
                Delivered:{' '}
                {d.messages.map((m) => (
                  <a key={m.id} href={`#/mail/${encodeURIComponent(m.user)}/${m.id}`} data-testid="delivered-link">
                    {m.subject || '(no subject)'} ({m.user}){' '}
                  </a>
                ))}
              </p>
            )}
            {d.lines.some((l) => l.secret) && (
              <label class="reveal">
                <input type="checkbox" checked={reveal} onChange={(e) => setReveal((e.target as HTMLInputElement).checked)} data-testid="reveal" /> Reveal
                passwords and AUTH data
              </label>
            )}
          </header>
          {d.dnsText ? (
            <pre class="dig" data-testid="dns-text">
              {d.dnsText.join('\n')}
            </pre>
          ) : (
            <ol class="lines" data-testid="dialogue">
              {d.lines.map((l, i) => (
                <li key={i} class={`line ${l.dir}`}>
                  <span class="t">{stamp(l.t)}</span>
                  <span class="who">{l.dir === 'c' ? 'C:' : l.dir === 's' ? 'S:' : '··'}</span>
                  <pre>{l.text}</pre>
                </li>
              ))}
              {d.dropped > 0 && <li class="line note">… {d.dropped} more lines not kept</li>}
            </ol>
          )}
        </>
      )}
    </article>
  );
}
