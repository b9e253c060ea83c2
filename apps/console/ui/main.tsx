// The console's pages (Preact). Every view is a call of the JSON API and the one event stream;
// mail content is only ever put in the page as text (Preact escapes it), and the HTML part only
// in a sandboxed frame served with its own strict CSP.
import { render } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import {
  type Attachment,
  api,
  type Info,
  json,
  type Mailbox,
  type Message,
  type Page,
  type SessionDetail,
  type SessionSummary,
  type Summary,
  type ZoneRecordRow,
} from './api.ts';
import { AuthVerdicts } from './auth.tsx';
import './style.css';

// ---- the live stream: one EventSource for the whole page ----

type Live = { type: string; data: Record<string, unknown> };
const listeners = new Set<(e: Live) => void>();
let liveState: 'connecting' | 'live' | 'offline' = 'connecting';
const stateListeners = new Set<(s: typeof liveState) => void>();
function connectLive(): void {
  const es = new EventSource('/api/v1/events');
  const setState = (s: typeof liveState) => {
    liveState = s;
    for (const l of stateListeners) l(s);
  };
  es.addEventListener('hello', () => setState('live'));
  es.onerror = () => setState(es.readyState === EventSource.CLOSED ? 'offline' : 'connecting');
  for (const type of ['message.new', 'message.update', 'message.delete', 'session']) {
    es.addEventListener(type, (ev) => {
      const data = JSON.parse((ev as MessageEvent<string>).data) as Record<string, unknown>;
      for (const l of listeners) l({ type, data });
    });
  }
}
function useLive(fn: (e: Live) => void): void {
  const ref = useRef(fn);
  ref.current = fn;
  useEffect(() => {
    const l = (e: Live) => ref.current(e);
    listeners.add(l);
    return () => void listeners.delete(l);
  }, []);
}
function useLiveState(): typeof liveState {
  const [s, set] = useState(liveState);
  useEffect(() => {
    stateListeners.add(set);
    return () => void stateListeners.delete(set);
  }, []);
  return s;
}

// ---- routing: #/mail/<user>/<id>, #/sessions/<id>, #/dns, #/certs, #/compose?reply=<id> ----

function useRoute(): { parts: string[]; params: URLSearchParams } {
  const read = () => {
    const h = location.hash.replace(/^#\/?/, '');
    const [p, q] = h.split('?');
    return { parts: (p ?? '').split('/').filter(Boolean).map(decodeURIComponent), params: new URLSearchParams(q ?? '') };
  };
  const [r, set] = useState(read);
  useEffect(() => {
    const on = () => set(read());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return r;
}
const go = (hash: string) => {
  location.hash = hash;
};

// ---- small parts ----

function useApi<T>(path: string | undefined, deps: unknown[] = []): { data?: T; error?: string; loading: boolean; reload: () => void } {
  const [state, set] = useState<{ data?: T; error?: string; loading: boolean }>({ loading: true });
  const [n, bump] = useState(0);
  useEffect(() => {
    if (!path) return;
    let live = true;
    set((s) => ({ ...s, loading: true }));
    api<T>(path).then(
      (data) => live && set({ data, loading: false }),
      (err: Error) => live && set({ error: err.message, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [path, n, ...deps]);
  return { ...state, reload: useCallback(() => bump((x) => x + 1), []) };
}

const ErrorBox = ({ error }: { error: string }) => (
  <p class="error" role="alert" data-testid="error">
    {error}
  </p>
);
const Loading = ({ what }: { what: string }) => <p class="loading">Loading {what}…</p>;
const Empty = ({ children }: { children: preact.ComponentChildren }) => (
  <div class="empty" data-testid="empty">
    {children}
  </div>
);

function size(n: number): string {
  return n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} kB` : `${(n / 1024 / 1024).toFixed(1)} MB`;
}
function when(ms: number | null): string {
  if (ms === null) return '';
  const d = new Date(ms);
  const today = new Date();
  return d.toDateString() === today.toDateString()
    ? d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' })
    : d.toLocaleString([], { dateStyle: 'short', timeStyle: 'short' });
}
const stamp = (ms: number) => `${new Date(ms).toLocaleTimeString([], { hour12: false })}.${String(ms % 1000).padStart(3, '0')}`;

// ---- mail ----

function MailView({ user, id }: { user?: string; id?: string }) {
  const boxes = useApi<{ mailboxes: Mailbox[] }>('/mailboxes');
  useLive((e) => e.type.startsWith('message.') && boxes.reload());
  const current = user ?? boxes.data?.mailboxes[0]?.user;
  useEffect(() => {
    if (!user && current) go(`/mail/${encodeURIComponent(current)}`);
  }, [user, current]);
  return (
    <div class={`mail ${id ? 'has-message' : ''}`}>
      <nav class="boxes" aria-label="Mailboxes">
        {boxes.error && <ErrorBox error={boxes.error} />}
        {boxes.data?.mailboxes.map((b) => (
          <a
            key={b.user}
            href={`#/mail/${encodeURIComponent(b.user)}`}
            class={b.user === current ? 'box current' : 'box'}
            data-testid="mailbox"
            data-user={b.user}
          >
            <span class="box-name">{b.user}</span>
            <span class="count" title={`${b.total} messages, ${b.unread} unread`}>
              {b.unread > 0 ? <b>{b.unread}</b> : null}
              <span class="muted">{b.total}</span>
            </span>
          </a>
        ))}
      </nav>
      {current && <MessageList user={current} selected={id} />}
      {current && id && <MessageView user={current} id={id} />}
      {current && !id && <p class="placeholder muted">Select a message to read it.</p>}
    </div>
  );
}

const PAGE = 50;

function MessageList({ user, selected }: { user: string; selected?: string }) {
  const [query, setQuery] = useState('');
  const [typed, setTyped] = useState('');
  const [start, setStart] = useState(0);
  useEffect(() => {
    setQuery('');
    setTyped('');
    setStart(0);
  }, [user]);
  const path = `/mailboxes/${encodeURIComponent(user)}/messages?query=${encodeURIComponent(query)}&start=${start}&limit=${PAGE}`;
  const page = useApi<Page>(path);
  const [rows, setRows] = useState<Summary[] | undefined>();
  useEffect(() => setRows(page.data?.messages), [page.data]);
  useLive((e) => {
    if (e.data.user !== user) return;
    if (e.type === 'message.delete') setRows((r) => r?.filter((m) => m.id !== e.data.id));
    else if (e.type === 'message.update') setRows((r) => r?.map((m) => (m.id === (e.data.message as Summary).id ? (e.data.message as Summary) : m)));
    else page.reload();
  });
  return (
    <section class="list" aria-label={`${user}'s messages`}>
      <form
        class="search"
        onSubmit={(ev) => {
          ev.preventDefault();
          setStart(0);
          setQuery(typed.trim());
        }}
      >
        <input
          type="search"
          name="query"
          data-testid="search"
          placeholder="Search: from: to: subject: has:attachment is:unread before:2026-01-31"
          value={typed}
          onInput={(ev) => setTyped((ev.target as HTMLInputElement).value)}
          aria-label="Search messages"
        />
        <button type="submit">Search</button>
      </form>
      {page.error && <ErrorBox error={page.error} />}
      {page.loading && !rows && <Loading what="messages" />}
      {rows && rows.length === 0 && (
        <Empty>
          {query ? (
            <p>No message matches “{query}”.</p>
          ) : (
            <>
              <p>{user}'s mailbox is empty.</p>
              <p class="muted">Mail sent to this user (by SMTP, or a file dropped in its Maildir's new/) appears here as it arrives.</p>
            </>
          )}
        </Empty>
      )}
      {rows && rows.length > 0 && (
        <ul class="rows" data-testid="message-list">
          {rows.map((m) => (
            <li key={m.id}>
              <a
                href={`#/mail/${encodeURIComponent(user)}/${m.id}`}
                class={`row ${m.seen ? 'seen' : 'unseen'} ${m.id === selected ? 'selected' : ''}`}
                data-testid="message-row"
                data-id={m.id}
              >
                <span class="from">{m.from || '(no sender)'}</span>
                <span class="date">{when(m.date ?? m.time)}</span>
                <span class="subject">
                  {m.attachments && (
                    <span class="clip" title="has attachments" role="img" aria-label="has attachments">
                      📎
                    </span>
                  )}
                  {m.subject || '(no subject)'}
                </span>
                <span class="size">{size(m.size)}</span>
              </a>
            </li>
          ))}
        </ul>
      )}
      {page.data && page.data.total > PAGE && (
        <div class="pager">
          <button type="button" disabled={start === 0} onClick={() => setStart(Math.max(0, start - PAGE))}>
            Newer
          </button>
          <span>
            {start + 1}–{Math.min(start + PAGE, page.data.total)} of {page.data.total}
          </span>
          <button type="button" disabled={start + PAGE >= page.data.total} onClick={() => setStart(start + PAGE)}>
            Older
          </button>
        </div>
      )}
    </section>
  );
}

type Tab = 'html' | 'text' | 'headers' | 'raw' | 'attachments';

function MessageView({ user, id }: { user: string; id: string }) {
  const msg = useApi<Message>(`/messages/${id}`);
  const [tab, setTab] = useState<Tab | undefined>();
  const [remote, setRemote] = useState(false);
  const [gone, setGone] = useState(false);
  const [actionError, setActionError] = useState<string>();
  useEffect(() => {
    setTab(undefined);
    setRemote(false);
    setGone(false);
    setActionError(undefined);
  }, [id]);
  useLive((e) => e.type === 'message.delete' && e.data.id === id && setGone(true));
  const m = msg.data;
  // Opening a message marks it read, as a mail client does (Maildir flag S).
  useEffect(() => {
    if (m && !m.seen) api(`/messages/${id}/read`, json('PUT', { read: true })).then(msg.reload, () => {});
  }, [m?.id]);
  const back = `#/mail/${encodeURIComponent(user)}`;
  if (gone)
    return (
      <article class="message">
        <a class="back" href={back}>
          ← Back
        </a>
        <Empty>
          <p>This message is gone (deleted, or taken by POP3).</p>
        </Empty>
      </article>
    );
  if (msg.error)
    return (
      <article class="message">
        <a class="back" href={back}>
          ← Back
        </a>
        <ErrorBox error={msg.error} />
      </article>
    );
  if (!m) return <article class="message">{<Loading what="the message" />}</article>;
  const p = m.parsed;
  const current: Tab = tab ?? (p?.hasHtml ? 'html' : p ? 'text' : 'raw');
  const tabs: Tab[] = p
    ? [...(p.hasHtml ? (['html'] as Tab[]) : []), 'text', 'headers', 'raw', ...(p.attachments.length ? (['attachments'] as Tab[]) : [])]
    : ['raw'];
  const del = async () => {
    try {
      await api(`/messages/${id}`, { method: 'DELETE' });
      go(back.slice(1));
    } catch (err) {
      setActionError((err as Error).message);
    }
  };
  const toggleRead = async () => {
    try {
      await api(`/messages/${id}/read`, json('PUT', { read: !m.seen }));
      msg.reload();
    } catch (err) {
      setActionError((err as Error).message);
    }
  };
  return (
    <article class="message" data-testid="message" aria-label="Message">
      <a class="back" href={back}>
        ← Back
      </a>
      <header>
        <h2 data-testid="message-subject">{m.subject || '(no subject)'}</h2>
        <dl class="meta">
          <dt>From</dt>
          <dd>{m.from}</dd>
          <dt>To</dt>
          <dd>{m.to}</dd>
          {m.cc && (
            <>
              <dt>Cc</dt>
              <dd>{m.cc}</dd>
            </>
          )}
          <dt>Date</dt>
          <dd>{m.date ? new Date(m.date).toString() : '(none)'}</dd>
          <dt>Size</dt>
          <dd>{size(m.size)}</dd>
        </dl>
        <AuthVerdicts auth={m.authResults} />
        <div class="actions">
          <a class="button" href={`#/compose?reply=${id}`}>
            Reply
          </a>
          <button type="button" onClick={toggleRead}>
            Mark {m.seen ? 'unread' : 'read'}
          </button>
          <button type="button" class="danger" data-testid="delete" onClick={del}>
            Delete
          </button>
          {m.smtpId && <SessionLink smtpId={m.smtpId} />}
        </div>
        {actionError && <ErrorBox error={actionError} />}
        {(m.error || p?.error) && <p class="warning">This message could not be parsed ({m.error ?? p?.error}): showing its raw source.</p>}
      </header>
      <div class="tabs" role="tablist">
        {tabs.map((t) => (
          <button
            key={t}
            type="button"
            role="tab"
            aria-selected={t === current}
            class={t === current ? 'tab current' : 'tab'}
            data-testid={`tab-${t}`}
            onClick={() => setTab(t)}
          >
            {t === 'html' ? 'HTML' : t === 'text' ? 'Text' : t === 'headers' ? 'Headers' : t === 'raw' ? 'Source' : `Attachments (${p?.attachments.length})`}
          </button>
        ))}
      </div>
      <div class="pane">
        {current === 'html' && (
          <>
            {!remote && (
              <p class="notice">
                Remote images are blocked.{' '}
                <button type="button" class="link" onClick={() => setRemote(true)}>
                  Show them
                </button>
              </p>
            )}
            <iframe
              key={`${id}-${remote}`}
              title="HTML part of the message"
              data-testid="html-frame"
              sandbox="allow-popups allow-popups-to-escape-sandbox"
              referrerpolicy="no-referrer"
              src={`/api/v1/messages/${id}/html${remote ? '?remote=1' : ''}`}
            />
          </>
        )}
        {current === 'text' && <pre class="text">{p?.text ?? '(this message has no text part)'}</pre>}
        {current === 'headers' && (
          <table class="headers">
            <tbody>
              {p?.headers.map((h, i) => (
                <tr key={i}>
                  <th>{h.name}</th>
                  <td>{h.value}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {current === 'raw' && <Raw id={id} size={m.size} />}
        {current === 'attachments' && p && <Attachments id={id} list={p.attachments} />}
      </div>
    </article>
  );
}

function SessionLink({ smtpId }: { smtpId: string }) {
  const s = useApi<{ sessions: SessionSummary[] }>(`/sessions?smtpId=${encodeURIComponent(smtpId)}&limit=1`);
  const one = s.data?.sessions[0];
  return one ? (
    <a class="button" href={`#/sessions/${encodeURIComponent(one.id)}`} data-testid="session-link">
      SMTP session
    </a>
  ) : null;
}

const RAW_INLINE_MAX = 1024 * 1024;
function Raw({ id, size: bytes }: { id: string; size: number }) {
  const [text, setText] = useState<string>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    if (bytes > RAW_INLINE_MAX) return;
    fetch(`/api/v1/messages/${id}/raw`)
      .then((r) => (r.ok ? r.text() : Promise.reject(new Error(`${r.status}`))))
      .then(setText, (e: Error) => setError(`the source could not be read (${e.message})`));
  }, [id]);
  return (
    <>
      <p>
        <a href={`/api/v1/messages/${id}/raw?download=1`} download>
          Download the source (.eml)
        </a>
      </p>
      {bytes > RAW_INLINE_MAX ? (
        <p class="muted">The source is {size(bytes)}: download it to read it.</p>
      ) : error ? (
        <ErrorBox error={error} />
      ) : text === undefined ? (
        <Loading what="the source" />
      ) : (
        <pre class="raw" data-testid="raw">
          {text}
        </pre>
      )}
    </>
  );
}

function Attachments({ id, list }: { id: string; list: Attachment[] }) {
  return (
    <ul class="attachments">
      {list.map((a) => (
        <li key={a.index}>
          <a href={`/api/v1/messages/${id}/attachments/${a.index}`} download={a.filename || `part-${a.index}`}>
            {a.filename || `part ${a.index}`}
          </a>{' '}
          <span class="muted">
            {a.contentType}, {size(a.size)}
            {a.inline ? ', inline' : ''}
          </span>
        </li>
      ))}
    </ul>
  );
}

// ---- sessions ----

const PROTOCOLS = ['smtp', 'submission', 'pop3', 'pop3s', 'http', 'https', 'dns'];

function SessionsView({ id }: { id?: string }) {
  const [protocols, setProtocols] = useState<string[]>(PROTOCOLS);
  const [client, setClient] = useState('');
  const path = `/sessions?limit=300&protocol=${protocols.join(',')}${client ? `&client=${encodeURIComponent(client)}` : ''}`;
  const list = useApi<{ sessions: SessionSummary[]; lost: number }>(protocols.length ? path : undefined);
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

function SessionView({ id }: { id: string }) {
  const [reveal, setReveal] = useState(false);
  const s = useApi<SessionDetail>(`/sessions/${encodeURIComponent(id)}${reveal ? '?reveal=1' : ''}`);
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

// ---- DNS ----

function DnsView() {
  const zone = useApi<{ records: ZoneRecordRow[] }>('/dns/zone');
  const queries = useApi<{ queries: SessionSummary[] }>('/dns/queries?limit=50');
  useLive((e) => e.type === 'session' && e.data.protocol === 'dns' && queries.reload());
  const [name, setName] = useState('');
  const [type, setType] = useState('A');
  const [answer, setAnswer] = useState<{ text: string[]; rcode: string } | { error: string } | undefined>();
  const info = useApi<Info>('/info');
  useEffect(() => {
    if (info.data && !name) setName(`www.${info.data.domain}`);
  }, [info.data]);
  const dig = async (e: Event) => {
    e.preventDefault();
    setAnswer(undefined);
    try {
      setAnswer(await api<{ text: string[]; rcode: string }>(`/dns/dig?name=${encodeURIComponent(name)}&type=${type}`));
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
            {['A', 'AAAA', 'NS', 'MX', 'SOA', 'CNAME', 'PTR', 'SRV', 'TXT', 'ANY'].map((t) => (
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

// ---- certificates ----

interface Cert {
  name: string;
  kind: string;
  status: string;
  subject?: string;
  sans?: string[];
  issuer?: string;
  notBefore?: string;
  notAfter?: string;
  serial?: string;
  download?: string;
}

function CertsView() {
  const certs = useApi<{ certificates: Cert[]; p12Password: string; caDownload: string }>('/certificates');
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

// ---- compose ----

function ComposeView({ reply }: { reply?: string }) {
  const info = useApi<Info>('/info');
  const original = useApi<Message>(reply ? `/messages/${reply}` : undefined);
  const [form, setForm] = useState({ from: '', to: '', cc: '', subject: '', text: '', inReplyTo: '' });
  const [result, setResult] = useState<{ ok: string } | { error: string } | undefined>();
  const [sending, setSending] = useState(false);
  useEffect(() => {
    if (info.data && !form.from) setForm((f) => ({ ...f, from: info.data!.users[0]!.name }));
  }, [info.data]);
  useEffect(() => {
    const m = original.data;
    if (!m) return;
    const addr = /<([^>]+)>/.exec(m.from)?.[1] ?? m.from;
    const quoted = (m.parsed?.text ?? '')
      .split('\n')
      .map((l) => `> ${l}`)
      .join('\n');
    setForm((f) => ({
      ...f,
      from: m.user,
      to: addr,
      subject: /^re:/i.test(m.subject) ? m.subject : `Re: ${m.subject}`,
      inReplyTo: m.messageId,
      text: `\n\n${quoted}`,
    }));
  }, [original.data]);
  const set = (k: keyof typeof form) => (e: Event) => setForm({ ...form, [k]: (e.target as HTMLInputElement).value });
  const send = async (e: Event) => {
    e.preventDefault();
    setSending(true);
    setResult(undefined);
    try {
      const r = await api<{ response: string; accepted: string[] }>('/send', json('POST', form));
      setResult({ ok: `Sent to ${r.accepted.join(', ')}: ${r.response}` });
    } catch (err) {
      setResult({ error: (err as Error).message });
    } finally {
      setSending(false);
    }
  };
  return (
    <form class="compose" onSubmit={send} data-testid="compose">
      <p class="muted">Sent through the domain's own submission service, as the chosen user: it shows up in the sessions timeline.</p>
      <label>
        From
        <select value={form.from} onChange={set('from')} data-testid="compose-from">
          {info.data?.users.map((u) => (
            <option key={u.name} value={u.name}>
              {u.email}
            </option>
          ))}
        </select>
      </label>
      <label>
        To <input value={form.to} onInput={set('to')} required data-testid="compose-to" placeholder="nombre2_9721@…, someone@example.org" />
      </label>
      <label>
        Cc <input value={form.cc} onInput={set('cc')} />
      </label>
      <label>
        Subject <input value={form.subject} onInput={set('subject')} data-testid="compose-subject" />
      </label>
      <label>
        Message <textarea rows={12} value={form.text} onInput={set('text')} data-testid="compose-text" />
      </label>
      <div class="actions">
        <button type="submit" disabled={sending} data-testid="compose-send">
          {sending ? 'Sending…' : 'Send'}
        </button>
      </div>
      {result &&
        ('ok' in result ? (
          <p class="notice" data-testid="compose-result">
            {result.ok}
          </p>
        ) : (
          <ErrorBox error={result.error} />
        ))}
    </form>
  );
}

// ---- the frame ----

function App() {
  const { parts, params } = useRoute();
  const live = useLiveState();
  const info = useApi<Info>('/info');
  const view = parts[0] ?? 'mail';
  const nav = [
    ['mail', 'Mail'],
    ['sessions', 'Sessions'],
    ['dns', 'DNS'],
    ['certs', 'Certificates'],
    ['compose', 'Compose'],
  ];
  return (
    <>
      <header class="top">
        <a class="brand" href="#/mail">
          {info.data?.domain ?? 'sstt'}
        </a>
        <nav aria-label="Views">
          {nav.map(([k, label]) => (
            <a key={k} href={`#/${k}`} class={view === k ? 'current' : ''} data-testid={`nav-${k}`}>
              {label}
            </a>
          ))}
        </nav>
        <span class={`live ${live}`} data-testid="live" title="the live event stream">
          {live === 'live' ? '●' : '○'}
          <span class="label"> {live}</span>
        </span>
      </header>
      <main>
        {view === 'mail' && <MailView user={parts[1]} id={parts[2]} />}
        {view === 'sessions' && <SessionsView id={parts[1]} />}
        {view === 'dns' && <DnsView />}
        {view === 'certs' && <CertsView />}
        {view === 'compose' && <ComposeView reply={params.get('reply') ?? undefined} />}
      </main>
    </>
  );
}

connectLive();
const root = document.getElementById('app')!;
root.textContent = ''; // the "Loading" placeholder of index.html
render(<App />, root);
