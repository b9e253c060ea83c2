// The frame of every page: the domain, the views' tabs, the live stream's state, the view the
// URL's fragment names.
import type { Info } from './api.ts';
import { useApi } from './hooks.ts';
import { useLiveState } from './live.ts';
import { useRoute } from './router.ts';
import { CertsView } from './views/certs.tsx';
import { ComposeView } from './views/compose.tsx';
import { DnsView } from './views/dns.tsx';
import { MailView } from './views/mail.tsx';
import { SessionsView } from './views/sessions.tsx';

export function App() {
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
        {view === 'dns' && (
          <DnsView
            question={params.get('name') && params.get('type') ? { name: params.get('name')!, type: params.get('type')! } : undefined}
            smtpId={params.get('smtpId') ?? undefined}
          />
        )}
        {view === 'certs' && <CertsView />}
        {view === 'compose' && <ComposeView reply={params.get('reply') ?? undefined} />}
      </main>
    </>
  );
}
