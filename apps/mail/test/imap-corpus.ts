// The command sequences the IMAP differential runs against dovecot's IMAP and ours, each on a
// fresh copy of the same Maildir (FIXTURE), after LOGIN. A sequence covers a command or an
// extension the capability list names, or an example of RFC 9051; `{TAG}` is not needed: the
// runner tags each line itself. A line that is a literal's continuation is written "<<octets".

/** The messages of the fixture Maildir, in UID order. */
export const FIXTURE: string[] = [
  'From: Ana Perez <ana@example.test>\r\nTo: bob@example.test, "Carl, Jr." <carl@example.test>\r\nCc: undisclosed-recipients:;\r\nSubject: first message\r\nDate: Mon, 7 Dec 2026 10:00:00 +0000\r\nMessage-ID: <1@example.test>\r\n\r\nhello one\r\n',
  'From: carl@example.test\nTo: bob@example.test\nSubject: second (LF only)\nDate: Tue, 8 Dec 2026 11:30:00 +0100\n\nhello two\nsecond line\n',
  [
    'From: dora@example.test',
    'To: bob@example.test',
    'Subject: =?UTF-8?Q?caf=C3=A9?= with parts',
    'Date: Wed, 9 Dec 2026 12:00:00 +0000',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="XYZ"',
    '',
    'preamble',
    '--XYZ',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    'caf=C3=A9 body',
    '--XYZ',
    'Content-Type: application/octet-stream; name="a.bin"',
    'Content-Disposition: attachment; filename="a.bin"',
    'Content-Transfer-Encoding: base64',
    '',
    'AAECAw==',
    '--XYZ',
    'Content-Type: message/rfc822',
    '',
    'From: eve@example.test',
    'Subject: inner',
    '',
    'inner body',
    '--XYZ--',
    'epilogue',
    '',
  ].join('\r\n'),
];

export interface Sequence {
  name: string;
  lines: string[];
}

export const CORPUS: Sequence[] = [
  { name: 'NOOP, CAPABILITY after login, NAMESPACE', lines: ['NOOP', 'NAMESPACE'] },
  { name: 'SELECT INBOX', lines: ['SELECT INBOX'] },
  { name: 'EXAMINE then STORE refused', lines: ['EXAMINE INBOX', 'STORE 1 +FLAGS (\\Seen)'] },
  { name: 'LIST all, LIST %, LIST "" ""', lines: ['LIST "" "*"', 'LIST "" "%"', 'LIST "" ""', 'LIST "" "Tr*"', 'LIST "" "inbox"'] },
  { name: 'LIST-EXTENDED and SPECIAL-USE', lines: ['LIST (SPECIAL-USE) "" "*"', 'LIST "" "*" RETURN (SPECIAL-USE)', 'LIST "" "*" RETURN (CHILDREN)'] },
  { name: 'LIST-STATUS', lines: ['LIST "" "%" RETURN (STATUS (MESSAGES UNSEEN))'] },
  {
    name: 'STATUS',
    lines: ['STATUS INBOX (MESSAGES UIDNEXT UNSEEN)', 'STATUS Sent (MESSAGES UIDNEXT UNSEEN)', 'STATUS INBOX (SIZE)', 'STATUS Nope (MESSAGES)'],
  },
  {
    name: 'CREATE, LIST, RENAME, DELETE',
    lines: [
      'CREATE Projects',
      'CREATE Projects.2026',
      'LIST "" "Projects*"',
      'CREATE Projects',
      'RENAME Projects.2026 Projects.2027',
      'LIST "" "Projects*"',
      'DELETE Projects.2027',
      'DELETE Projects.2027',
      'LIST "" "Projects*"',
    ],
  },
  // (A folder of the user's: see imap-differences.ts on unsubscribing a special-use folder.)
  {
    name: 'SUBSCRIBE, LSUB, LIST (SUBSCRIBED)',
    lines: ['CREATE Lists', 'SUBSCRIBE Lists', 'LSUB "" "*"', 'LIST (SUBSCRIBED) "" "*"', 'UNSUBSCRIBE Lists', 'LSUB "" "*"'],
  },
  { name: 'FETCH FLAGS UID RFC822.SIZE', lines: ['SELECT INBOX', 'FETCH 1:* (UID FLAGS RFC822.SIZE)'] },
  { name: 'FETCH ENVELOPE', lines: ['SELECT INBOX', 'FETCH 1:3 ENVELOPE'] },
  { name: 'FETCH BODYSTRUCTURE and BODY', lines: ['SELECT INBOX', 'FETCH 1:3 BODYSTRUCTURE', 'FETCH 3 BODY'] },
  {
    name: 'FETCH sections',
    lines: [
      'SELECT INBOX',
      'FETCH 3 (BODY.PEEK[1] BODY.PEEK[2.MIME] BODY.PEEK[3.HEADER] BODY.PEEK[3.TEXT])',
      'FETCH 1 BODY.PEEK[HEADER.FIELDS (Subject From)]',
      'FETCH 1 BODY.PEEK[HEADER.FIELDS.NOT (Subject From Date To Cc)]',
      'FETCH 2 BODY.PEEK[TEXT]<0.5>',
      'FETCH 2 BODY.PEEK[]<4.10>',
    ],
  },
  {
    name: 'FETCH sets \\Seen, PEEK does not',
    lines: [
      'SELECT INBOX',
      'FETCH 1 BODY.PEEK[TEXT]',
      'FETCH 1 FLAGS',
      'FETCH 1 BODY[TEXT]',
      'FETCH 1 FLAGS',
      'UID FETCH 2 BODY[]',
      'UID FETCH 3 (FLAGS BODY[HEADER])',
    ],
  },
  { name: 'FETCH macros', lines: ['SELECT INBOX', 'FETCH 1 FAST', 'FETCH 2 ALL'] },
  { name: 'UID FETCH', lines: ['SELECT INBOX', 'UID FETCH 2:3 (FLAGS)', 'UID FETCH 9 (FLAGS)', 'UID FETCH 1:* (RFC822.SIZE)'] },
  {
    name: 'STORE and keywords',
    lines: [
      'SELECT INBOX',
      'STORE 1 +FLAGS (\\Flagged)',
      'STORE 1:2 +FLAGS.SILENT (\\Answered)',
      'FETCH 1:2 FLAGS',
      'STORE 2 FLAGS ($Work)',
      'STORE 2 -FLAGS ($Work)',
      'UID STORE 3 +FLAGS (\\Seen)',
    ],
  },
  {
    name: 'SEARCH',
    lines: [
      'SELECT INBOX',
      'SEARCH ALL',
      'SEARCH UNSEEN',
      'SEARCH FROM carl',
      'SEARCH SUBJECT first',
      'SEARCH OR FROM ana FROM dora',
      'SEARCH NOT FROM ana',
      'SEARCH LARGER 300',
      'SEARCH 2:3',
      'UID SEARCH UID 2:*',
      'SEARCH BODY "hello two"',
      'SEARCH HEADER Message-ID "<1@example.test>"',
      'SEARCH SENTSINCE 8-Dec-2026',
      'SEARCH CHARSET UTF-8 ALL',
    ],
  },
  { name: 'ESEARCH', lines: ['SELECT INBOX', 'SEARCH RETURN (MIN MAX COUNT) ALL', 'UID SEARCH RETURN (ALL) 1:2', 'SEARCH RETURN () FROM nobody'] },
  { name: 'COPY with COPYUID', lines: ['SELECT INBOX', 'COPY 1:2 Trash', 'STATUS Trash (MESSAGES UIDNEXT)', 'COPY 1 Nope'] },
  { name: 'MOVE', lines: ['SELECT INBOX', 'UID MOVE 2 Junk', 'FETCH 1:* UID', 'STATUS Junk (MESSAGES)'] },
  { name: 'EXPUNGE and UID EXPUNGE', lines: ['SELECT INBOX', 'STORE 1:2 +FLAGS (\\Deleted)', 'UID EXPUNGE 2', 'FETCH 1:* UID', 'EXPUNGE', 'FETCH 1:* UID'] },
  {
    name: 'CLOSE expunges, UNSELECT does not',
    lines: ['SELECT INBOX', 'STORE 3 +FLAGS (\\Deleted)', 'UNSELECT', 'STATUS INBOX (MESSAGES)', 'SELECT INBOX', 'CLOSE', 'STATUS INBOX (MESSAGES)'],
  },
  {
    name: 'APPEND with APPENDUID',
    lines: ['APPEND Drafts (\\Draft) {22}', '<<Subject: draft\r\n\r\nhi\r\n', 'STATUS Drafts (MESSAGES UIDNEXT)', 'APPEND Nope {5}', '<<hello'],
  },
  { name: 'APPEND LITERAL+', lines: ['APPEND Sent (\\Seen) {26+}', '<<Subject: sent\r\n\r\nsent it\r\n', 'SELECT Sent', 'FETCH 1 (FLAGS BODY.PEEK[])'] },
  // dovecot 2.3 has no IMAP4rev2 (ENABLE answers "* ENABLED" with nothing): what it changes is
  // tested against RFC 9051 in imap-protocol.test.ts, not here.
  { name: 'ENABLE of something unknown', lines: ['ENABLE FOO', 'SELECT INBOX'] },
  { name: 'wrong state', lines: ['FETCH 1 FLAGS', 'EXPUNGE', 'CLOSE'] },
  { name: 'bad sequence sets', lines: ['SELECT INBOX', 'FETCH 0 FLAGS', 'FETCH 1:x FLAGS', 'FETCH 5 FLAGS', 'UID FETCH 0:1 FLAGS'] },
  {
    name: 'an empty mailbox',
    lines: ['SELECT Trash', 'FETCH 1:* FLAGS', 'UID FETCH 1:* FLAGS', 'SEARCH ALL', 'UID SEARCH ALL', 'STORE 1:* +FLAGS (\\Seen)', 'EXPUNGE'],
  },
  // RFC 7162 CONDSTORE (the values of MODSEQ are normalised: imap-differences.ts).
  { name: 'CONDSTORE: SELECT (CONDSTORE), FETCH MODSEQ', lines: ['SELECT INBOX (CONDSTORE)', 'FETCH 1:* (FLAGS MODSEQ)', 'UID FETCH 1:* (MODSEQ)'] },
  { name: 'CONDSTORE: ENABLE, then SELECT', lines: ['ENABLE CONDSTORE', 'SELECT INBOX', 'ENABLE CONDSTORE', 'EXAMINE Trash'] },
  { name: 'CONDSTORE: enabled by FETCH MODSEQ in a selected mailbox', lines: ['SELECT INBOX', 'FETCH 1 (MODSEQ)', 'STORE 1 +FLAGS (\\Seen)'] },
  {
    name: 'CONDSTORE: STORE with CONDSTORE on',
    lines: [
      'SELECT INBOX (CONDSTORE)',
      'STORE 1 +FLAGS (\\Flagged)',
      'STORE 2 +FLAGS.SILENT (\\Answered)',
      'UID STORE 3 FLAGS ($Work)',
      'FETCH 1 BODY[TEXT]',
      'FETCH 1:3 BODY[TEXT]',
      'UID FETCH 1:3 (FLAGS MODSEQ)',
    ],
  },
  {
    name: 'CONDSTORE: STORE UNCHANGEDSINCE',
    lines: [
      'SELECT INBOX',
      'STORE 1:3 (UNCHANGEDSINCE 0) +FLAGS (\\Seen)',
      'UID STORE 1:2 (UNCHANGEDSINCE 0) +FLAGS.SILENT (\\Seen)',
      'STORE 2 (UNCHANGEDSINCE 18446744073709) +FLAGS (\\Deleted)',
      'STORE 1 (UNCHANGEDSINCE x) +FLAGS (\\Seen)',
    ],
  },
  {
    name: 'CONDSTORE: FETCH CHANGEDSINCE',
    lines: [
      'SELECT INBOX',
      'FETCH 1:* (FLAGS) (CHANGEDSINCE 0)',
      'UID FETCH 1:* (FLAGS) (CHANGEDSINCE 18446744073709)',
      'FETCH 1 (FLAGS) (CHANGEDSINCE)',
      'FETCH 1 FLAGS (BOGUS 1)',
    ],
  },
  {
    name: 'CONDSTORE: SEARCH MODSEQ',
    lines: [
      'SELECT INBOX',
      'SEARCH MODSEQ 1',
      'UID SEARCH MODSEQ "/flags/\\\\draft" all 1',
      'SEARCH MODSEQ 18446744073709',
      'SEARCH RETURN (ALL) MODSEQ 1',
      'SEARCH MODSEQ x',
    ],
  },
  {
    name: 'CONDSTORE: FETCH that sets \\Seen on several messages',
    lines: [
      'ENABLE CONDSTORE',
      'SELECT INBOX',
      'FETCH 1:3 RFC822.TEXT',
      'UID FETCH 1:3 (BODY[TEXT] MODSEQ)',
      'STORE 1 -FLAGS (\\Seen)',
      'UID FETCH 1 (MODSEQ BODY[TEXT])',
    ],
  },
  { name: 'CONDSTORE: STATUS HIGHESTMODSEQ', lines: ['STATUS INBOX (MESSAGES HIGHESTMODSEQ)', 'SELECT INBOX', 'STATUS Trash (HIGHESTMODSEQ)'] },
  { name: 'unknown commands and bad arguments', lines: ['FOO', 'SELECT', 'LIST "" ', 'STATUS INBOX (BOGUS)', 'UID BOGUS 1'] },
];
