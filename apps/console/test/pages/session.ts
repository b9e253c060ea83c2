// One session: its dialogue as C:/S: lines, and the messages it delivered.
import type { Page } from 'playwright-core';

export class SessionPage {
  constructor(private readonly page: Page) {}

  async shown(): Promise<void> {
    await this.page.getByTestId('dialogue').waitFor();
  }

  /** The dialogue as "C: ..." / "S: ..." lines. */
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

  /** Follows the link to a message this session delivered. */
  async openDelivered(subject: string): Promise<void> {
    await this.page.getByTestId('delivered-link').filter({ hasText: subject }).click();
  }
}
