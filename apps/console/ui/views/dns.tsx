// The DNS view: the dig box (one query to the domain's DNS), the zone's records, the recent queries.
import { useEffect, useState } from 'preact/hooks';
import { api, type DigReply, type DnsQueries, type Info, type ZoneList } from '../api.ts';
import { DIG_TYPES } from '../../src/api/values.ts';
import { stamp } from '../format.ts';
import { useApi } from '../hooks.ts';
import { useLive } from '../live.ts';
import { Empty, ErrorBox, Loading } from '../parts.tsx';

export function DnsView() {
  const zone = useApi<ZoneList>('/dns/zone');
  const queries = useApi<DnsQueries>('/dns/queries?limit=50');
  useLive((e) => e.type === 'session' && e.data.protocol === 'dns' && queries.reload());
  const [name, setName] = useState('');
  const [type, setType] = useState('A');
  const [answer, setAnswer] = useState<DigReply | { error: string } | undefined>();
  const info = useApi<Info>('/info');
  useEffect(() => {
    // The default name only into an empty box, judged on the latest state (not this render's):
    // a name typed before /info answered stays.
    const domain = info.data?.domain;
    if (domain) setName((typed) => typed || `www.${domain}`);
  }, [info.data]);
  const dig = async (e: Event) => {
    e.preventDefault();
    setAnswer(undefined);
    try {
      setAnswer(await api<DigReply>(`/dns/dig?name=${encodeURIComponent(name)}&type=${type}`));
    } catch (err) {
      setAnswer({ error: (err as Error).message });
    }
  };
  return (
    <div class="dns">
      <section>
        <h2>dig</h2>
        <form class="dig-form" onSubmit={dig}>
          <input value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} aria-label="Name" data-testid="dig-name" />
          <select value={type} onChange={(e) => setType((e.target as HTMLSelectElement).value)} aria-label="Type">
            {DIG_TYPES.map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
          <button type="submit">Ask</button>
        </form>
        {answer &&
          ('error' in answer ? (
            <ErrorBox error={answer.error} />
          ) : (
            <pre class="dig" data-testid="dig-answer">
              {answer.text.join('\n')}
            </pre>
          ))}
      </section>
      <section>
        <h2>Zone</h2>
        {zone.error && <ErrorBox error={zone.error} />}
        {!zone.data && !zone.error && <Loading what="the zone" />}
        {zone.data && (
          <div class="scroll">
            <table class="grid">
              <thead>
                <tr>
                  <th>Name</th>
                  <th>TTL</th>
                  <th>Type</th>
                  <th>Data</th>
                </tr>
              </thead>
              <tbody>
                {zone.data.records.map((r, i) => (
                  <tr key={i}>
                    <td>{r.name}</td>
                    <td>{r.ttl}</td>
                    <td>{r.type}</td>
                    <td>{r.data}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <section>
        <h2>Recent queries</h2>
        {queries.data && queries.data.queries.length === 0 && (
          <Empty>
            <p>No query yet.</p>
          </Empty>
        )}
        {queries.data && queries.data.queries.length > 0 && (
          <table class="grid">
            <tbody>
              {queries.data.queries.map((q) => (
                <tr key={q.id}>
                  <td>{stamp(q.start)}</td>
                  <td>
                    <a href={`#/sessions/${encodeURIComponent(q.id)}`}>{q.summary}</a>
                  </td>
                  <td>{q.client}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </div>
  );
}
