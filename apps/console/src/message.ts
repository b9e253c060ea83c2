// One message as the console shows it, read with mailparser (streaming): the text and HTML
// parts, the header lines, the list of attachments. An attachment's bytes are counted and
// dropped, never held (a 20 MB attachment costs no memory); only small inline images that the
// HTML refers to by cid: (RFC 2392) are kept, to become data: URLs in the HTML. A MIME tree
// mailparser cannot make sense of is reported as an error: the UI then shows the raw source.
import fs from 'node:fs';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Attachment as AttachmentInfo } from './api/schemas.ts';
import { commonJs } from '@sstt/runtime';

export type { AttachmentInfo };

/** Inline images larger than this are not embedded (the attachment link still works). */
const MAX_INLINE_IMAGE = 2 * 1024 * 1024;
/** Text and HTML parts longer than this are cut (the raw source has everything). */
const MAX_TEXT = 2 * 1024 * 1024;

export interface ParsedMessage {
  headers: Array<{ name: string; value: string }>;
  from: string;
  to: string;
  cc: string;
  subject: string;
  date: string | null;
  text: string | null;
  html: string | null;
  attachments: AttachmentInfo[];
  /** Set when the MIME structure could not be parsed: show the raw source instead. */
  error?: string;
}

type MailParserCtor = typeof import('mailparser').MailParser;
let ctor: Promise<MailParserCtor> | undefined;
/** mailparser is loaded at the first message view, not at start (the console's memory budget). */
const loadParser = () => (ctor ??= import('mailparser').then((m) => commonJs(m).MailParser));

interface ParserAttachment {
  content: Readable;
  contentType: string;
  filename?: string;
  contentId?: string;
  contentDisposition?: string;
  related?: boolean;
  release(): void;
}

const addressText = (v: unknown): string => {
  if (!v) return '';
  if (Array.isArray(v)) return v.map(addressText).join(', ');
  return (v as { text?: string }).text ?? String(v);
};

const cut = (s: string | undefined | false) => (typeof s === 'string' ? (s.length > MAX_TEXT ? s.slice(0, MAX_TEXT) : s) : null);

/** Parses a message file. `wanted` = index of an attachment whose bytes go to `sink`. */
async function run(file: string, wanted?: { index: number; sink: PassThrough; onInfo: (a: AttachmentInfo) => void }): Promise<ParsedMessage> {
  const MailParser = await loadParser();
  const parser = new MailParser({ skipTextToHtml: true, skipImageLinks: true });
  const out: ParsedMessage = { headers: [], from: '', to: '', cc: '', subject: '', date: null, text: null, html: null, attachments: [] };
  const inline = new Map<string, string>();
  const pending: Promise<void>[] = [];
  parser.on('headers', (headers: Map<string, unknown>) => {
    out.from = addressText(headers.get('from'));
    out.to = addressText(headers.get('to'));
    out.cc = addressText(headers.get('cc'));
    out.subject = String(headers.get('subject') ?? '');
    const d = headers.get('date');
    out.date = d instanceof Date && !Number.isNaN(d.getTime()) ? d.toISOString() : null;
    out.headers = (parser as unknown as { headerLines: Array<{ key: string; line: string }> }).headerLines.map((h) => {
      const colon = h.line.indexOf(':');
      return {
        name: h.line.slice(0, colon),
        value: h.line
          .slice(colon + 1)
          .replace(/\r?\n[ \t]+/g, ' ')
          .trim(),
      };
    });
  });
  parser.on('data', (data: { type: string; text?: string; html?: string | false } | (ParserAttachment & { type: 'attachment' })) => {
    if (data.type === 'text') {
      const t = data as { text?: string; html?: string | false };
      out.text = cut(t.text);
      out.html = cut(t.html);
      return;
    }
    const a = data as ParserAttachment;
    const info: AttachmentInfo = {
      index: out.attachments.length,
      filename: a.filename ?? '',
      contentType: a.contentType || 'application/octet-stream',
      size: 0,
      ...(a.contentId ? { contentId: a.contentId.replace(/^<|>$/g, '') } : {}),
      inline: a.contentDisposition === 'inline' || Boolean(a.related),
    };
    out.attachments.push(info);
    const keep = info.contentId && info.contentType.startsWith('image/');
    const chunks: Buffer[] = [];
    const toSink = wanted && wanted.index === info.index;
    if (toSink) wanted.onInfo(info);
    pending.push(
      new Promise<void>((resolve) => {
        a.content.on('data', (c: Buffer) => {
          info.size += c.length;
          if (keep && info.size <= MAX_INLINE_IMAGE) chunks.push(c);
          if (toSink && !wanted.sink.write(c)) {
            a.content.pause();
            wanted.sink.once('drain', () => a.content.resume());
          }
        });
        a.content.on('end', () => {
          if (keep && info.size <= MAX_INLINE_IMAGE) inline.set(info.contentId!, `data:${info.contentType};base64,${Buffer.concat(chunks).toString('base64')}`);
          if (toSink) wanted.sink.end();
          a.release();
          resolve();
        });
      }),
    );
  });
  try {
    await pipeline(fs.createReadStream(file), parser);
    await Promise.all(pending);
  } catch (err) {
    // The file itself is gone (renamed by a flag change, taken by POP3): the caller decides.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw err;
    out.error = (err as Error).message;
  }
  if (out.html && inline.size > 0) {
    out.html = out.html.replace(/\bcid:([^"'\s)>]+)/gi, (m, cid: string) => inline.get(decodeURIComponent(cid)) ?? m);
  }
  return out;
}

export function parseMessage(file: string): Promise<ParsedMessage> {
  return run(file);
}

/** The bytes of one attachment as a stream, with its description; undefined if there is no such part. */
export async function openAttachment(file: string, index: number): Promise<{ info: AttachmentInfo; stream: Readable } | undefined> {
  const sink = new PassThrough();
  return new Promise((resolve, reject) => {
    let found = false;
    run(file, {
      index,
      sink,
      onInfo: (info) => {
        found = true;
        resolve({ info, stream: sink });
      },
    }).then(() => {
      if (!found) resolve(undefined);
    }, reject);
  });
}

// ---- the HTML part in its sandbox ----

/**
 * The Content-Security-Policy of a message's HTML document. `sandbox` (without allow-scripts
 * and allow-same-origin) makes it an opaque origin that runs no script even when opened
 * directly; default-src 'none' blocks every fetch (remote images, fonts, CSS imports, forms),
 * so nothing tells the sender the message was read. Inline images are data: URLs. Remote
 * images are allowed only when the user asks.
 */
export function htmlCsp(remoteImages: boolean): string {
  return [
    "default-src 'none'",
    `img-src data:${remoteImages ? ' http: https:' : ''}`,
    "style-src 'unsafe-inline'",
    'font-src data:',
    "form-action 'none'",
    "base-uri 'none'",
    'sandbox allow-popups allow-popups-to-escape-sandbox',
  ].join('; ');
}

/** The HTML part as a document of its own: a charset, links opening outside the frame. */
export function htmlDocument(html: string): string {
  return `<!doctype html><meta charset="utf-8"><base target="_blank"><style>html{color-scheme:light}body{margin:8px;font-family:sans-serif}</style>${html}`;
}
