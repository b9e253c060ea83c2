// Page objects of the console for the browser tests: what a person does (open a mailbox,
// search, open a message, delete it, read a session) and what is on the screen.
import type { FrameLocator, Locator, Page } from 'playwright-core';

export class ConsolePage {
  constructor(
    readonly page: Page,
    readonly base: string,
  ) {}

  async openMailbox(user: string): Promise<void> {
    await this.page.goto(`${this.base}/#/mail/${encodeURIComponent(user)}`);
    await this.page.locator('[data-testid="live"].live').waitFor();
  }

  get rows(): Locator {
    return this.page.getByTestId('message-row');
  }

  row(subject: string): Locator {
    return this.rows.filter({ hasText: subject });
  }

  get empty(): Locator {
    return this.page.getByTestId('empty');
  }

  async search(query: string): Promise<void> {
    await this.page.getByTestId('search').fill(query);
    await this.page.getByTestId('search').press('Enter');
  }

  async open(subject: string): Promise<void> {
    await this.row(subject).click();
    await this.page.getByTestId('message-subject').filter({ hasText: subject }).waitFor();
  }

  get htmlFrame(): FrameLocator {
    return this.page.frameLocator('[data-testid="html-frame"]');
  }

  async deleteOpenMessage(): Promise<void> {
    await this.page.getByTestId('delete').click();
  }

  async openSessions(): Promise<void> {
    await this.page.getByTestId('nav-sessions').click();
    await this.page.getByTestId('session-list').waitFor();
  }

  sessionRow(protocol: string, text: string): Locator {
    return this.page.locator(`[data-testid="session-row"][data-protocol="${protocol}"]`).filter({ hasText: text });
  }

  /** The dialogue of the open session as "C: ..." / "S: ..." lines. */
  async dialogue(): Promise<string[]> {
    const items = await this.page.getByTestId('dialogue').locator('li').all();
    const out: string[] = [];
    for (const li of items) {
      const who = (await li.locator('.who').textContent()) ?? '';
      const text = (await li.locator('pre').textContent()) ?? '';
      out.push(`${who} ${text}`);
    }
    return out;
  }
}
