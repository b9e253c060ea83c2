// The mail view: the mailboxes down the side (the chosen one with its IMAP folders and their
// counts), the chosen one's inbox, the open message.
import { useEffect } from 'preact/hooks';
import type { FolderList, MailboxList } from '../api.ts';
import { useApi } from '../hooks.ts';
import { useLive } from '../live.ts';
import { ErrorBox } from '../parts.tsx';
import { go } from '../router.ts';
import { MessageList } from './message-list.tsx';
import { MessageView } from './message.tsx';

export function MailView({ user, id }: { user?: string; id?: string }) {
  const boxes = useApi<MailboxList>('/mailboxes');
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
        {current && <Folders user={current} />}
      </nav>
      {current && <MessageList user={current} selected={id} />}
      {current && id && <MessageView user={current} id={id} />}
      {current && !id && <p class="placeholder muted">Select a message to read it.</p>}
    </div>
  );
}

/** The user's folders as IMAP shows them (INBOX, Sent, Drafts, Trash, Junk and their own), with counts. */
function Folders({ user }: { user: string }) {
  const folders = useApi<FolderList>(`/mailboxes/${encodeURIComponent(user)}/folders`, [user]);
  useLive((e) => e.type.startsWith('message.') && folders.reload());
  if (!folders.data) return null;
  return (
    <ul class="folders" aria-label="Folders">
      {folders.data.folders.map((f) => (
        <li key={f.name} data-testid="folder" data-folder={f.name}>
          <span class="box-name">{f.name}</span>
          <span class="count" title={`${f.total} messages, ${f.unread} unread`}>
            {f.unread > 0 ? <b>{f.unread}</b> : null}
            <span class="muted" data-testid="folder-total">
              {f.total}
            </span>
          </span>
        </li>
      ))}
    </ul>
  );
}
