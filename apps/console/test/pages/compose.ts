// The compose view: the form, sending, and what the submission service answered.
import type { ConsolePage } from './console.ts';

export class ComposePage {
  constructor(private readonly ui: ConsolePage) {}

  async open(): Promise<void> {
    await this.ui.tab('compose');
    await this.ui.page.getByTestId('compose').waitFor();
  }

  /** Fills the form as a person does and presses Send. */
  async send(m: { from: string; to: string; subject: string; text: string }): Promise<void> {
    const p = this.ui.page;
    await p.getByTestId('compose-from').selectOption(m.from);
    await p.getByTestId('compose-to').fill(m.to);
    await p.getByTestId('compose-subject').fill(m.subject);
    await p.getByTestId('compose-text').fill(m.text);
    await p.getByTestId('compose-send').click();
  }

  /** The line that says what happened ("Sent to ...: 250 OK id=..."). */
  result(): Promise<string | null> {
    return this.ui.page.getByTestId('compose-result').textContent();
  }
}
