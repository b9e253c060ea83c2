/**
 * A bad configuration value. `message` is the one line printed at startup: it names where the
 * value came from (file, environment variable or flag), the key, what was expected and what
 * was found. Apps print it and exit with `EXIT_CONFIG`.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly source: string,
    readonly key: string,
    readonly expected: string,
    readonly found: string,
  ) {
    super(`${source}: ${key}: expected ${expected}, found ${found}`);
  }
}

/** Exit status for a configuration problem (bad value, port taken): the caller must act. */
export const EXIT_CONFIG = 2;

/** Shows a found value in an error line without letting it run on or break the line. */
export function showValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  let text: string;
  try {
    text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value);
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
