// The one file of the values `sstt-lab compare` expects to differ between sstt and the real
// programs, each with its reason. A rule rewrites a line of a dialogue (both sides) before the
// two are compared (a line rewritten to '' is left out); a difference no rule removes is a
// difference to fix in our servers.
export interface CompareRule {
  /** The step it applies to (a key of compare.ts's dialogues), or '*' for every step. */
  step: string;
  pattern: RegExp;
  replace: string;
  why: string;
}

export const COMPARE_RULES: CompareRule[] = [
  {
    step: '*',
    pattern: /sstt\d{4}\.org/g,
    replace: 'sstt<ID>.org',
    why: 'the two labs may run for two student IDs (side by side they must): each is judged for its own domain',
  },
  {
    step: 'tls',
    pattern: /Servicios Telematicos \d{4}/,
    replace: 'Servicios Telematicos <ID>',
    why: "the lab CA's name carries the student ID (packages/pki), and each lab has its own CA",
  },
  { step: '*', pattern: /_\d{4}\b/g, replace: '_<ID>', why: "the users' names carry the student ID (nombre1_<ID>)" },
  {
    step: 'smtp',
    pattern: /^S: 220 .*/,
    replace: 'S: 220 <greeting>',
    why: "the greeting names the server's host, its product and version, and the date (RFC 5321 §4.3.1 leaves the text free)",
  },
  {
    step: 'smtp',
    pattern: /^S: 250-\S+ Hello .*/,
    replace: 'S: 250-<host> Hello <client>',
    why: "the EHLO reply's first line names the server's host and how it saw the client: exim 4.96 looks the client's name up (Debian's host_lookup), the report's 4.86 showed [address] twice (RFC 5321 §4.1.1.1: free text)",
  },
  {
    step: 'smtp',
    pattern: /^S: 250[- ](PIPECONNECT|CHUNKING)$/,
    replace: '',
    why: "exim 4.96's defaults (pipelining_connect_advertise_hosts, chunking_advertise_hosts), which the report's exim 4.86 did not have: its EHLO said SIZE, 8BITMIME, PIPELINING, PRDR, HELP",
  },
  {
    step: 'smtp',
    pattern: /^S: 250[- ](STARTTLS|AUTH PLAIN LOGIN)$/,
    replace: '',
    why: "not in the report's EHLO: Debian 12's exim4 turns TLS on by default, and sstt offers STARTTLS and AUTH on port 25 on purpose (README, Mail); the report's exim had neither",
  },
  {
    step: 'smtp',
    pattern: /^S: 250-PRDR$/,
    replace: '',
    why: "exim's own extension (per-recipient data responses, draft-hall-prdr, never an RFC), in the report's EHLO and in exim 4.96's; sstt's SMTP is smtp-server, which has no PRDR, and offering it without doing it would mislead a client that uses it; no step of the report's dialogue uses it",
  },
  { step: 'smtp', pattern: /^S: 250 OK id=\S+/, replace: 'S: 250 OK id=<queue id>', why: 'each server names the accepted message with its own queue id' },
  { step: 'smtp', pattern: /^S: 221 .*/, replace: 'S: 221 <closing>', why: "the goodbye names the server's host (free text)" },
  { step: 'smtp', pattern: /SIZE=\d+/, replace: 'SIZE=<n>', why: 'the message the replay sends carries a date and a subject of its run' },
  {
    step: 'pop3',
    pattern: /^S: \+OK .*ready\.$/,
    replace: 'S: +OK <greeting> ready.',
    why: "the greeting names the product (Debian's dovecot adds '(Debian)'); RFC 1939 §4 leaves it free",
  },
  {
    step: 'pop3',
    pattern: /^S: \+OK \d+ (\d+|octets)$/,
    replace: 'S: +OK <n> <size>',
    why: "a message's size depends on the fields each server adds (its Received; sstt also signs with DKIM and adds Authentication-Results), and the count on earlier runs",
  },
  {
    step: 'pop3',
    pattern: /^S: (\d+) \S+$/,
    replace: 'S: $1 <size or uid>',
    why: 'LIST sizes as above; UIDL values are each server’s own (RFC 1939 §7: any unique string)',
  },
  { step: 'pop3', pattern: /^C: (RETR|DELE) \d+$/, replace: 'C: $1 <n>', why: 'the message number is the newest message of the mailbox at the time' },
  { step: 'pop3', pattern: /^C: [A-Za-z0-9+/=]{16,}$/, replace: 'C: <AUTH PLAIN blob>', why: 'the blob is base64 of the user of each ID' },
  {
    step: 'ike',
    pattern: /^37$/,
    replace: '',
    why: 'INFORMATIONAL exchanges (RFC 7296 §1.4: liveness checks, the Delete a peer sends when it stops) depend on how long each lab ran and how it was stopped',
  },
];

/** A dialogue's line after the rules of its step. */
export function normalise(step: string, line: string): string {
  let out = line;
  for (const r of COMPARE_RULES) if (r.step === '*' || r.step === step) out = out.replace(r.pattern, r.replace);
  return out;
}
