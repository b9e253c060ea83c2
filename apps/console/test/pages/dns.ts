// The DNS view: the zone's table and the dig box.
import type { ConsolePage } from './console.ts';

export class DnsPage {
  constructor(private readonly ui: ConsolePage) {}

  /** Goes to the view by its tab and waits for the zone's table to hold `name`. */
  async open(name: string): Promise<void> {
    await this.ui.tab('dns');
    await this.zoneCell(name).waitFor();
  }

  zoneCell(name: string) {
    return this.ui.page.getByRole('cell', { name, exact: true }).first();
  }

  /** Asks the dig box; the answer is `answer()`. */
  async dig(name: string, type = 'A'): Promise<void> {
    // The view puts a default name in the box once /info answers: fill after it, not during it.
    await this.ui.page.waitForFunction(() => (document.querySelector('[data-testid=dig-name]') as HTMLInputElement | null)?.value !== '');
    await this.ui.page.getByTestId('dig-name').fill(name);
    await this.ui.page.getByRole('combobox', { name: 'Type' }).selectOption(type);
    await this.ui.page.getByRole('button', { name: 'Ask' }).click();
  }

  answer(): Promise<string | null> {
    return this.ui.page.getByTestId('dig-answer').textContent();
  }

  /** The section a verdict's link opens: its heading (the question) and its rows' summaries, newest first. */
  async verdictQueries(): Promise<{ heading: string; rows: string[] }> {
    const section = this.ui.page.getByTestId('verdict-queries');
    await section.getByTestId('verdict-query-rows').waitFor();
    const rows = await section.locator('tr td:nth-child(2)').allTextContents();
    return { heading: ((await section.locator('h2').textContent()) ?? '').trim(), rows };
  }
}
