// The sessions timeline: every SMTP, POP3, HTTP and DNS exchange as it happens, filtered by
// protocol and client; the open session beside it.
import { useRef, useState } from 'preact/hooks';
import { PROTOCOLS, type Protocol } from '../../src/api/values.ts';
import type { SessionList } from '../api.ts';
import { stamp } from '../format.ts';
import { useApi } from '../hooks.ts';
import { useLive } from '../live.ts';
import { Empty, ErrorBox, Loading } from '../parts.tsx';
import { SessionView } from './session.tsx';

export function SessionsView({ id }: { id?: string }) {
  const [protocols, setProtocols] = useState<Protocol[]>([...PROTOCOLS]);
  const [client, setClient] = useState('');
  const path = `/sessions?limit=300&protocol=${protocols.join(',')}${client ? `&client=${encodeURIComponent(client)}` : ''}`;
  const list = useApi<SessionList>(protocols.length ? path : undefined);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useLive((e) => {
    if (e.type !== 'session') return;
    clearTimeout(timer.current);
    timer.current = setTimeout(list.reload, 250);
  });
  return (
    <div class={`sessions ${id ? 'has-session' : ''}`}>
      <section class="session-list" aria-label="Sessions">
        <form class="filters" onSubmit={(e) => e.preventDefault()}>
          <fieldset>
            <legend>Protocols</legend>
            {PROTOCOLS.map((p) => (
              <label key={p}>
                <input
                  type="checkbox"
                  checked={protocols.includes(p)}
                  data-testid={`proto-${p}`}
                  onChange={(e) => setProtocols((cur) => ((e.target as HTMLInputElement).checked ? [...cur, p] : cur.filter((x) => x !== p)))}
                />
                {p}
              </label>
            ))}
          </fieldset>
          <label class="client">
            Client <input type="search" placeholder="127.0.0.1" value={client} onInput={(e) => setClient((e.target as HTMLInputElement).value.trim())} />
          </label>
        </form>
        {list.error && <ErrorBox error={list.error} />}
        {!list.data && !list.error && protocols.length > 0 && <Loading what="the sessions" />}
        {protocols.length === 0 && (
          <Empty>
            <p>Pick at least one protocol.</p>
          </Empty>
        )}
        {list.data && list.data.sessions.length === 0 && (
          <Empty>
            <p>No session yet.</p>
            <p class="muted">Every SMTP, POP3, HTTP and DNS exchange with the domain appears here as it happens.</p>
          </Empty>
        )}
        {list.data && list.data.lost > 0 && <p class="warning">{list.data.lost} events were dropped under load (the journal is bounded).</p>}
        {list.data && list.data.sessions.length > 0 && (
          <ul class="rows" data-testid="session-list">
            {list.data.sessions.map((s) => (
              <li key={s.id}>
                <a
                  href={`#/sessions/${encodeURIComponent(s.id)}`}
                  class={`row session ${s.id === id ? 'selected' : ''}`}
                  data-testid="session-row"
                  data-protocol={s.protocol}
                >
                  <span class={`proto proto-${s.protocol}`}>{s.protocol}</span>
                  <span class="date">{stamp(s.start)}</span>
                  <span class="subject">{s.summary}</span>
                  <span class="muted">
                    {s.client}
                    {s.user ? ` · ${s.user}` : ''}
                    {s.tls ? ` · ${s.tls.version}` : ''}
                    {s.rcode ? ` · ${s.rcode}` : ` · ${s.lines} lines`}
                    {s.end === null ? ' · open' : ''}
                  </span>
                </a>
              </li>
            ))}
          </ul>
        )}
      </section>
      {id && <SessionView id={id} />}
    </div>
  );
}
