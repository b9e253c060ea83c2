// The certificates view: the rows of the CA and every certificate, the PKCS#12 password.
import type { Locator } from 'playwright-core';
import type { ConsolePage } from './console.ts';

export class CertsPage {
  constructor(private readonly ui: ConsolePage) {}

  /** Goes to the view by its tab and waits for the first row. */
  async open(): Promise<void> {
    await this.ui.tab('certs');
    await this.rows.first().waitFor();
  }

  get rows(): Locator {
    return this.ui.page.getByTestId('cert-row');
  }

  p12Password(): Promise<string | null> {
    return this.ui.page.getByTestId('p12-password').textContent();
  }
}
