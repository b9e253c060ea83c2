// Page objects of the console for the browser tests (smtp4dev's Playwright WebUI tests): one per
// view, each saying what a person does there and what is on the screen, so a test reads as the
// person's steps. ConsolePage is the frame every view sits in (the views' tabs, the live stream's
// state) and holds the view objects.
import type { Page } from 'playwright-core';
import { CertsPage } from './certs.ts';
import { ComposePage } from './compose.ts';
import { DnsPage } from './dns.ts';
import { MailboxPage } from './mailbox.ts';
import { MessagePage } from './message.ts';
import { SessionPage } from './session.ts';
import { SessionsPage } from './sessions.ts';

export type View = 'mail' | 'sessions' | 'dns' | 'certs' | 'compose';

export class ConsolePage {
  readonly mailbox: MailboxPage;
  readonly message: MessagePage;
  readonly sessions: SessionsPage;
  readonly session: SessionPage;
  readonly dns: DnsPage;
  readonly certs: CertsPage;
  readonly compose: ComposePage;

  constructor(
    readonly page: Page,
    readonly base: string,
  ) {
    this.mailbox = new MailboxPage(this);
    this.message = new MessagePage(page);
    this.session = new SessionPage(page);
    this.sessions = new SessionsPage(this, this.session);
    this.dns = new DnsPage(this);
    this.certs = new CertsPage(this);
    this.compose = new ComposePage(this);
  }

  /** Loads the console at a view's URL and waits until its live stream is open (its hello came). */
  async goto(hash: string): Promise<void> {
    await this.page.goto(`${this.base}/#/${hash}`);
    await this.page.getByTestId('live').filter({ hasText: '● live' }).waitFor();
  }

  /** The live stream's state as the frame shows it: live, connecting or offline. */
  async liveState(): Promise<string> {
    return ((await this.page.getByTestId('live').textContent()) ?? '').replace(/^[●○]\s*/, '');
  }

  /** Goes to a view by its tab, as a person clicks it. */
  async tab(view: View): Promise<void> {
    await this.page.getByTestId(`nav-${view}`).click();
  }

  /** Leaves the console (nothing of it in flight any more). */
  async leave(): Promise<void> {
    await this.page.goto('about:blank');
  }
}
