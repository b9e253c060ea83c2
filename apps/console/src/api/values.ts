// The plain values of the API's declarations that the front end uses too (its protocol filter,
// its dig box, its page size): no zod here, so the browser bundle may import them.

/** The protocols whose sessions the journal records (@sstt/scenario EVENT_PROTOCOLS; a test holds the two together). */
export const PROTOCOLS = ['smtp', 'submission', 'pop3', 'pop3s', 'imap', 'imaps', 'http', 'https', 'dns'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

/** The record types the dig box asks for. */
export const DIG_TYPES = ['A', 'AAAA', 'NS', 'MX', 'SOA', 'CNAME', 'PTR', 'SRV', 'TXT', 'ANY'] as const;
export type DigType = (typeof DIG_TYPES)[number];

/** Messages in a page of the list unless asked otherwise, and at most. */
export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 500;
