// The console's API as the pages use it: the same /api/v1 calls a script would make.
import type { AttachmentInfo as Attachment, Line, SessionSummary, ZoneRecordRow } from '../src/api-types.ts';
import type { AuthResults } from '../src/auth-results.ts';

export type { Attachment, Line, SessionSummary, ZoneRecordRow };
export interface Summary {
  id: string;
  user: string;
  key: string;
  file: string;
  from: string;
  to: string;
  cc: string;
  subject: string;
  date: number | null;
  time: number;
  size: number;
  attachments: boolean;
  seen: boolean;
  messageId: string;
  smtpId: string;
  /** Our server's verdicts in one line, '' without. */
  auth: string;
}
export interface Page {
  total: number;
  unread: number;
  messagesTotal: number;
  start: number;
  count: number;
  tookMs: number;
  messages: Summary[];
}
export interface Parsed {
  headers: Array<{ name: string; value: string }>;
  from: string;
  to: string;
  cc: string;
  subject: string;
  date: string | null;
  text: string | null;
  hasHtml: boolean;
  attachments: Attachment[];
  error?: string;
}
export interface Message extends Summary {
  /** Our server's verdicts (Authentication-Results), null when it wrote none. */
  authResults: AuthResults | null;
  parsed: Parsed | null;
  error?: string;
}
export interface Mailbox {
  user: string;
  email: string;
  total: number;
  unread: number;
  size: number;
}
export interface Session extends SessionSummary {
  local: string;
  lines: never;
  dropped: number;
  dnsText?: string[];
  messages: Array<{ id: string; user: string; subject: string }>;
}
export interface SessionDetail extends Omit<Session, 'lines'> {
  lines: Line[];
}
export interface Info {
  domain: string;
  id: string;
  profile: string;
  users: Array<{ name: string; email: string }>;
  services: Record<string, string>;
  journal: { protocols: string[]; lost: number };
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function api<T>(path: string, init?: RequestInit): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`/api/v1${path}`, init);
  } catch {
    throw new ApiError(0, 'the console does not answer (is npm run dev still running?)');
  }
  const body = (await res.json().catch(() => undefined)) as (T & { error?: string }) | undefined;
  if (!res.ok) throw new ApiError(res.status, body?.error ?? `${res.status} ${res.statusText}`);
  return body as T;
}

export const json = (method: string, body: unknown): RequestInit => ({ method, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
