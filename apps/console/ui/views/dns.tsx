// The DNS view: the dig box (one query to the domain's DNS), the zone's records, the recent queries;
// from a message's verdict (#/dns?name=&type=&smtpId=), first the queries for the record it was
// read from, made before our server accepted the message.
import { useEffect, useState } from 'preact/hooks';
import { api, type DigReply, type DnsQueries, type DnsQuestion, type Info, type SessionSummary, type ZoneList } from '../api.ts';
import { DIG_TYPES } from '../../src/api/values.ts';
import { stamp } from '../format.ts';
import { useApi } from '../hooks.ts';
import { useLive } from '../live.ts';
import { Empty, ErrorBox, Loading } from '../parts.tsx';

function QueryRows({ queries, testid }: { queries: SessionSummary[]; testid?: string }) {
  return (
    <table class="grid" data-testid={testid}>
      <tbody>
        {queries.map((q) => (
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
  );
}

/** The queries for one record, before message `smtpId` was accepted: the newest is what the verdict read (or the mail app's cache held). */
function VerdictQueries({ question, smtpId }: { question: DnsQuestion; smtpId: string | undefined }) {
  const p = new URLSearchParams({ name: question.name, type: question.type, limit: '10', ...(smtpId ? { smtpId } : {}) });
  const found = useApi<DnsQueries>(`/dns/queries?${p}`);
  return (
    <section data-testid="verdict-queries">
      <h2>
        {question.name} {question.type}
      </h2>
      <p class="muted">
        {smtpId ? `Asked before message ${smtpId} was accepted, newest first: ` : 'Newest first: '}
        the first is the answer the verdict was read from (an answer the mail app reused from its cache was asked earlier).
      </p>
      {found.error && <ErrorBox error={found.error} />}
      {found.data && found.data.queries.length === 0 && (
        <Empty>
          <p>No such query in the journal (it keeps the recent ones).</p>
        </Empty>
      )}
      {found.data && found.data.queries.length > 0 && <QueryRows queries={found.data.queries} testid="verdict-query-rows" />}
    </section>
  );
}

export function DnsView({ question, smtpId }: { question?: DnsQuestion | undefined; smtpId?: string | undefined } = {}) {
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
      {question && <VerdictQueries question={question} smtpId={smtpId} />}
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
            <table class="grid zone">
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
        {queries.data && queries.data.queries.length > 0 && <QueryRows queries={queries.data.queries} />}
      </section>
    </div>
  );
}
