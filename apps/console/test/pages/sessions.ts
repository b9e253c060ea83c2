// The sessions timeline: its rows by protocol and summary, opening one.
import type { Locator } from 'playwright-core';
import type { ConsolePage } from './console.ts';
import type { SessionPage } from './session.ts';

export class SessionsPage {
  constructor(
    private readonly ui: ConsolePage,
    private readonly session: SessionPage,
  ) {}

  /** Goes to the timeline by its tab and waits for the list. */
  async open(): Promise<void> {
    await this.ui.tab('sessions');
    await this.ui.page.getByTestId('session-list').waitFor();
  }

  row(protocol: string, text: string): Locator {
    return this.ui.page.locator(`[data-testid="session-row"][data-protocol="${protocol}"]`).filter({ hasText: text });
  }

  /** Opens the newest session of `protocol` whose summary holds `text`, and waits for its dialogue. */
  async openSession(protocol: string, text: string): Promise<void> {
    await this.row(protocol, text).first().click();
    await this.session.shown();
  }
}
