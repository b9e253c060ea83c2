// One message: its header fields and our server's verdicts, its parts as tabs (the HTML part in a
// sandboxed frame, the text, the header lines, the source, the attachments), read/unread, delete,
// reply, and the SMTP session that delivered it.
import { useEffect, useState } from 'preact/hooks';
import { api, type Attachment, type FolderList, json, type Message, type SessionList } from '../api.ts';
import { size } from '../format.ts';
import { useApi } from '../hooks.ts';
import { useLive } from '../live.ts';
import { Empty, ErrorBox, Loading } from '../parts.tsx';
import { go } from '../router.ts';
import { AuthVerdicts } from './auth-verdicts.tsx';

type Tab = 'html' | 'text' | 'headers' | 'raw' | 'attachments';

export function MessageView({ user, id }: { user: string; id: string }) {
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
  const move = async (folder: string) => {
    try {
      await api(`/messages/${id}/move`, json('POST', { folder }));
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
        <AuthVerdicts auth={m.authResults} smtpId={m.smtpId} />
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
          <MoveTo user={user} onMove={move} />
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
  const s = useApi<SessionList>(`/sessions?smtpId=${encodeURIComponent(smtpId)}&limit=1`);
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

/** "Move to": the user's folders but the inbox; moving is IMAP's MOVE on the same Maildir. */
function MoveTo({ user, onMove }: { user: string; onMove: (folder: string) => void }) {
  const folders = useApi<FolderList>(`/mailboxes/${encodeURIComponent(user)}/folders`, [user]);
  const names = folders.data?.folders.map((f) => f.name).filter((n) => n !== 'INBOX') ?? [];
  if (names.length === 0) return null;
  return (
    <select
      aria-label="Move to"
      data-testid="move"
      onChange={(e) => {
        const v = (e.target as HTMLSelectElement).value;
        if (v) onMove(v);
      }}
    >
      <option value="">Move to…</option>
      {names.map((n) => (
        <option key={n} value={n}>
          {n}
        </option>
      ))}
    </select>
  );
}
