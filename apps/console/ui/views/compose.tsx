// Compose (and reply): a message sent as a user of the domain through its submission service.
import { useEffect, useState } from 'preact/hooks';
import { api, type Info, json, type Message, type SendReply, type SendRequest } from '../api.ts';
import { useApi } from '../hooks.ts';
import { ErrorBox } from '../parts.tsx';

export function ComposeView({ reply }: { reply?: string }) {
  const info = useApi<Info>('/info');
  const original = useApi<Message>(reply ? `/messages/${reply}` : undefined);
  const [form, setForm] = useState<Required<SendRequest> & { cc: string; to: string }>({ from: '', to: '', cc: '', subject: '', text: '', inReplyTo: '' });
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
      const r = await api<SendReply>('/send', json('POST', form));
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
