// A mailbox's messages: newest first, searched, paged, kept current by the live stream.
import { useEffect, useState } from 'preact/hooks';
import { DEFAULT_LIMIT } from '../../src/api/values.ts';
import type { MessagePage, MessageSummary } from '../api.ts';
import { size, when } from '../format.ts';
import { useApi } from '../hooks.ts';
import { useLive } from '../live.ts';
import { Empty, ErrorBox, Loading } from '../parts.tsx';

/** The API's default page size. */
const PAGE = DEFAULT_LIMIT;

export function MessageList({ user, selected }: { user: string; selected?: string }) {
  const [query, setQuery] = useState('');
  const [typed, setTyped] = useState('');
  const [start, setStart] = useState(0);
  useEffect(() => {
    setQuery('');
    setTyped('');
    setStart(0);
  }, [user]);
  const path = `/mailboxes/${encodeURIComponent(user)}/messages?query=${encodeURIComponent(query)}&start=${start}&limit=${PAGE}`;
  const page = useApi<MessagePage>(path);
  const [rows, setRows] = useState<MessageSummary[] | undefined>();
  useEffect(() => setRows(page.data?.messages), [page.data]);
  useLive((e) => {
    if (e.type === 'session' || e.data.user !== user) return;
    if (e.type === 'message.delete') {
      const gone = e.data.id;
      setRows((r) => r?.filter((m) => m.id !== gone));
    } else if (e.type === 'message.update') {
      const changed = e.data.message;
      setRows((r) => r?.map((m) => (m.id === changed.id ? changed : m)));
    } else page.reload();
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
