// The console's API as the pages use it: the same /api/v1 calls a script would make, with the
// types declared once beside the server (src/api/schemas.ts). Types only: zod and every other
// module of the server stay out of the browser bundle (a test reads the bundle's module list).
export type {
  Attachment,
  AuthResults,
  AuthVerdict,
  Certificate,
  CertificateList,
  DigReply,
  DnsQueries,
  DnsQuestion,
  Folder,
  FolderList,
  Info,
  Line,
  LiveEvents,
  Mailbox,
  MailboxList,
  Message,
  MessagePage,
  MessageSummary,
  Moved,
  Protocol,
  SendReply,
  SendRequest,
  Session,
  SessionList,
  SessionSummary,
  ZoneList,
  ZoneRecord,
} from '../src/api/schemas.ts';

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
