// IMAP keywords in a Maildir, as dovecot keeps them: the letters a..z in a name's flags
// (name.ts) are indexes 0..25 into the folder's `dovecot-keywords` file, one "<index> <name>"
// line each (https://doc.dovecot.org/admin_manual/mailbox_formats/maildir/, "IMAP Keywords").
// The file is replaced by rename only, under the dovecot-uidlist lock.

export const KEYWORDS_FILE = 'dovecot-keywords';
/** Letters a..z: at most 26 keywords live in the names (dovecot's MAILDIR_MAX_KEYWORDS). */
export const MAX_KEYWORDS = 26;

/** The flag letter of keyword `index` (0 is "a"). */
export function keywordLetter(index: number): string {
  if (!Number.isInteger(index) || index < 0 || index >= MAX_KEYWORDS) throw new RangeError(`no Maildir letter for keyword ${index}`);
  return String.fromCharCode(97 + index);
}

/** The keyword index of a flag letter; undefined for anything but a..z. */
export function keywordIndex(letter: string): number | undefined {
  const c = letter.length === 1 ? letter.charCodeAt(0) - 97 : -1;
  return c >= 0 && c < MAX_KEYWORDS ? c : undefined;
}

/**
 * Why one of `flags` (system flags, starting with a backslash, are skipped) cannot be made a
 * keyword of a folder that knows `known`, in dovecot's words (index_keyword_is_valid: IMAP's
 * atom-specials and 8-bit octets; a keyword the folder already has is always fine); undefined
 * when all can.
 */
export function keywordsError(flags: readonly string[], known: ReadonlyArray<string | undefined> = []): string | undefined {
  for (const keyword of flags) {
    if (keyword.startsWith('\\') || known.some((k) => k?.toLowerCase() === keyword.toLowerCase())) continue;
    if (keyword === '') return 'Empty keywords not allowed.';
    for (const ch of keyword) {
      const c = ch.charCodeAt(0);
      if ('(){"\\%*]'.includes(ch) || c <= 0x20 || c === 0x7f) return 'Invalid characters in keyword.';
      if (c >= 0x80) return '8bit characters in keyword.';
    }
  }
  return undefined;
}

/** C's atoi, which dovecot reads the index with: leading blanks, a sign, then digits (none is 0). */
function atoi(text: string): number {
  const m = /^[\t\n\v\f\r ]*([+-]?)(\d*)/.exec(text)!;
  const n = m[2] === '' ? 0 : Number(m[2]);
  return m[1] === '-' ? -n : n;
}

/**
 * Keyword names by index (a sparse array). Read as dovecot's maildir_keywords_sync reads it: a
 * line without a space is skipped, the index is atoi() of what precedes the first space (so
 * "x Foo" is index 0), and an index outside 0..25 or an empty name skips the line; a later line
 * for the same index wins.
 */
export function parseKeywords(text: string): Array<string | undefined> {
  const names: Array<string | undefined> = [];
  for (const line of text.split('\n')) {
    const sp = line.indexOf(' ');
    if (sp < 0) continue;
    const index = atoi(line.slice(0, sp));
    const name = line.slice(sp + 1);
    if (index < 0 || index >= MAX_KEYWORDS || name === '') continue;
    names[index] = name;
  }
  return names;
}

/** The file's text, as dovecot writes it: one "<index> <name>\n" per keyword, by index. */
export function serializeKeywords(names: ReadonlyArray<string | undefined>): string {
  if (names.length > MAX_KEYWORDS) throw new RangeError(`more than ${MAX_KEYWORDS} keywords`);
  let text = '';
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    if (name === undefined) continue;
    if (name === '' || name.includes('\n')) throw new RangeError(`not a keyword: ${JSON.stringify(name)}`);
    text += `${i} ${name}\n`;
  }
  return text;
}
