// The mail view's list: the mailboxes, one mailbox's messages, its search and its empty state.
import type { Locator } from 'playwright-core';
import type { ConsolePage } from './console.ts';

export class MailboxPage {
  constructor(private readonly ui: ConsolePage) {}

  async open(user: string): Promise<void> {
    await this.ui.goto(`mail/${encodeURIComponent(user)}`);
  }

  get rows(): Locator {
    return this.ui.page.getByTestId('message-row');
  }

  row(subject: string): Locator {
    return this.rows.filter({ hasText: subject });
  }

  /** The sender shown in a message's row. */
  from(subject: string): Promise<string | null> {
    return this.row(subject).locator('.from').textContent();
  }

  /** What the list says when it has no message. */
  emptyText(): Promise<string | null> {
    return this.ui.page.getByTestId('empty').textContent();
  }

  /** The count of messages a folder of the open mailbox shows. */
  folderTotal(folder: string): Promise<string | null> {
    return this.ui.page.locator(`[data-testid="folder"][data-folder="${folder}"] [data-testid="folder-total"]`).textContent();
  }

  async search(query: string): Promise<void> {
    const box = this.ui.page.getByTestId('search');
    await box.fill(query);
    await box.press('Enter');
  }

  /** Opens a message from the list and waits for it to show. */
  async openMessage(subject: string): Promise<void> {
    await this.row(subject).click();
    await this.ui.message.shows(subject);
  }

  /** Whether the list is on the screen (at 390 px an open message takes the only column). */
  visible(): Promise<boolean> {
    return this.ui.page.getByTestId('message-list').isVisible();
  }
}
