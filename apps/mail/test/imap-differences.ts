// Every way our IMAP replies may differ from dovecot's (Debian 12, dovecot 2.3) in the
// differential (imap-dovecot.test.ts), each with its reason. A transcript is normalised by these
// rules, in order, then compared line by line; anything not listed here is a defect.

/**
 * Differences no rule normalises, because the corpus does not exercise them (each is a choice):
 * - UNSUBSCRIBE of a special-use folder: dovecot (`auto = subscribe`) keeps listing it as
 *   subscribed in that session; ours removes it from `subscriptions` as asked, and subscribes it
 *   again at the next login.
 * - IMAP4rev2 (ENABLE IMAP4rev2): dovecot 2.3 does not have it; imap-protocol.test.ts checks ours.
 * - QRESYNC, SORT, THREAD and the other extensions only dovecot advertises.
 * - SEARCH NEW, OLD and RECENT: \Recent lives in dovecot's index (see the rules below); ours match
 *   no message, every message and no message.
 * - SEARCH KEYWORD of a keyword the folder does not have: dovecot registers it while searching and
 *   sends the new FLAGS and PERMANENTFLAGS; ours creates no keyword on a search.
 * - CONDSTORE's values (MODSEQ, HIGHESTMODSEQ, MODIFIED) are compared as they are, not normalised:
 *   ours count as dovecot's do on the corpus (a new folder at 1, the messages its first sync finds
 *   at 2, then one per change). They may differ where a change is seen differently: we give one
 *   mod-sequence to all the changes one sync finds made by others (dovecot, POP3, a delivery),
 *   dovecot one per change it makes or finds; a client may only rely on their order (RFC 7162 §3.1).
 */
export interface Difference {
  why: string;
  /** The line as compared; undefined drops it. */
  apply(line: string): string | undefined;
}

const rule = (why: string, re: RegExp, to: string | ((...m: string[]) => string)): Difference => ({
  why,
  apply: (line) => line.replace(re, to as string),
});

export const DIFFERENCES: Difference[] = [
  rule('dovecot appends its timing to tagged replies, "(0.001 + 0.000 secs)"; a clock value', / \(\d+\.\d+ \+ \d+\.\d+(?: \+ \d+\.\d+)? secs\)\./, '.'),
  rule(
    'the capability lists differ: dovecot has extensions we do not implement (SORT, THREAD, QRESYNC, URLAUTH, ...); the capability test checks ours',
    /\[CAPABILITY [^\]]*\]|^\* CAPABILITY .*$/,
    '[CAPABILITY …]',
  ),
  rule('UIDVALIDITY is the time the folder was first seen (dovecot-uidlist V), different in each run', /(UIDVALIDITY |APPENDUID |COPYUID )\d+/g, '$1V'),
  rule('the ID response names the server', /^\* ID .*$/, '* ID …'),
  {
    why: "\\Recent lives in dovecot's index, which we do not keep (IMAP4rev2 dropped it): dovecot counts recent messages and reports the count as it changes, we report 0 at SELECT",
    apply: (line) => (/^\* \d+ RECENT$/.test(line) ? undefined : line),
  },
  { why: 'the same: \\Recent in a flag list', apply: (line) => line.replace(/ ?\\Recent(?=[ )])/g, '').replace(/\( /g, '(') },
  rule('the greeting names the server ("Dovecot (Debian) ready." / "sstt ready.")', /^(\* OK \[CAPABILITY …\]) .*$/, '$1 ready.'),

  rule('dovecot names the mailbox in "doesn\'t exist" replies; we do not echo client input (STYLE §8)', /(Mailbox doesn't exist): .*\.$/, '$1.'),
  rule(
    'STATUS of a missing mailbox: dovecot gives no response code, we give RFC 5530 [NONEXISTENT] as for every other command',
    /NO \[NONEXISTENT\] Mailbox doesn't exist\.$/,
    "NO Mailbox doesn't exist.",
  ),
  rule(
    'dovecot names an unknown verb in its BAD; we do not echo client input (STYLE §8)',
    /Error in IMAP command [^:]*: Unknown command\.$/,
    'Error in IMAP command: Unknown command.',
  ),
  rule('dovecot names an unknown STATUS item; we do not echo client input', /(Invalid status item)[^.]*\.$/, '$1.'),
];

/** RFC 9051 §6.3.9 does not order LIST replies: dovecot gives readdir's order with INBOX last, we give INBOX then names sorted. */
export const LIST_ORDER_WHY = 'LIST and LSUB replies are compared as a set (each with the STATUS that follows it)';

function sortListRuns(lines: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < lines.length; ) {
    if (!/^\* (LIST|LSUB) /.test(lines[i]!)) {
      out.push(lines[i++]!);
      continue;
    }
    const entries: string[][] = [];
    while (i < lines.length && /^\* (LIST|LSUB) /.test(lines[i]!)) {
      const entry = [lines[i++]!];
      if (i < lines.length && lines[i]!.startsWith('* STATUS ')) entry.push(lines[i++]!);
      entries.push(entry);
    }
    entries.sort((a, b) => (a[0]! < b[0]! ? -1 : a[0]! > b[0]! ? 1 : 0));
    for (const e of entries) out.push(...e);
  }
  return out;
}

/** A transcript (its lines) as compared: each line normalised, then LIST runs in one order. */
export function normalise(lines: string[]): string[] {
  const out: string[] = [];
  for (const line of lines) {
    let l: string | undefined = line;
    for (const d of DIFFERENCES) if (l !== undefined) l = d.apply(l);
    if (l !== undefined) out.push(l);
  }
  return sortListRuns(out);
}
