// The message view: its subject, our server's verdicts, the tabs of its parts (the HTML part in
// its sandboxed frame), delete, and the link to the SMTP session that delivered it.
import type { FrameLocator, Locator, Page } from 'playwright-core';

export type Tab = 'html' | 'text' | 'headers' | 'raw' | 'attachments';

export class MessagePage {
  constructor(private readonly page: Page) {}

  /** Waits until the message with this subject is the one shown. */
  async shows(subject: string): Promise<void> {
    await this.page.getByTestId('message-subject').filter({ hasText: subject }).waitFor();
  }

  get htmlFrame(): FrameLocator {
    return this.page.frameLocator('[data-testid="html-frame"]');
  }

  /** The frame element itself (its sandbox attribute). */
  get htmlFrameElement(): Locator {
    return this.page.getByTestId('html-frame');
  }

  /** Our server's verdicts as their chips read: "DKIM pass (domain s=rsa)". */
  verdicts(): Promise<string[]> {
    return this.page.getByTestId('verdict').allTextContents();
  }

  /** The verdicts' line (what it says without verdicts). */
  authText(): Promise<string | null> {
    return this.page.getByTestId('auth').textContent();
  }

  /** Where each verdict's DNS link goes, in the verdicts' order. */
  async verdictDnsLinks(): Promise<string[]> {
    return Promise.all((await this.page.getByTestId('verdict-dns').all()).map(async (a) => (await a.getAttribute('href')) ?? ''));
  }

  /** Follows the DNS link of the verdict of `method` (the first such verdict). */
  async openVerdictDns(method: string): Promise<void> {
    await this.page.locator(`[data-testid=verdict][data-method=${method}]`).first().getByTestId('verdict-dns').click();
  }

  async tab(t: Tab): Promise<void> {
    await this.page.getByTestId(`tab-${t}`).click();
  }

  /** Moves the message with the "Move to" menu. */
  async moveTo(folder: string): Promise<void> {
    await this.page.getByTestId('move').selectOption(folder);
  }

  async delete(): Promise<void> {
    await this.page.getByTestId('delete').click();
  }
}
