// Messages written to attack a mail viewer, dropped straight into a Maildir's new/ (a message
// that arrives by any path must show up, and safely).
import fs from 'node:fs';
import path from 'node:path';

let n = 0;
/** Writes `text` (LF or CRLF) as a new message of the Maildir; returns the file. */
export function drop(maildir: string, text: string | Buffer): string {
  n += 1;
  const name = `${Math.floor(Date.now() / 1000)}.M${n}P${process.pid}Q${n}.test`;
  fs.mkdirSync(path.join(maildir, 'tmp'), { recursive: true });
  fs.mkdirSync(path.join(maildir, 'new'), { recursive: true });
  fs.writeFileSync(path.join(maildir, 'tmp', name), text);
  fs.renameSync(path.join(maildir, 'tmp', name), path.join(maildir, 'new', name));
  return path.join(maildir, 'new', name);
}

const head = (subject: string, extra = '') =>
  `From: Mallory <mallory@evil.example>\r\nTo: victim@example.org\r\nSubject: ${subject}\r\nDate: Sat, 05 Dec 2026 10:00:00 +0000\r\nMessage-ID: <${subject.replace(/\W/g, '')}@evil.example>\r\nMIME-Version: 1.0\r\n${extra}`;

/** HTML with a script, a javascript: link, an overlay covering the page, a remote image, an event handler. */
export const SCRIPT_HTML = `${head('hostile html', 'Content-Type: text/html; charset=utf-8\r\n')}\r\n<html><head><style>.cover{position:fixed;top:0;left:0;width:100vw;height:100vh;background:red;z-index:99999}</style></head><body>
<div class="cover">covered</div>
<p id="p">hello <b>bold</b></p>
<script>parent.document.title='pwned';document.getElementById('p').textContent='script ran';</script>
<img src="http://127.0.0.1:9/tracker.png" onerror="parent.document.title='pwned2'">
<a id="js" href="javascript:parent.document.title='pwned3'">click</a>
</body></html>\r\n`;

/** A subject and a From that try to break out of the list's markup. */
export const SCRIPT_SUBJECT = `${head('<img src=x onerror=alert(1)><script>alert(2)</script>', 'Content-Type: text/plain\r\n')}\r\nbody\r\n`;

/** A multipart/mixed whose boundary never closes and whose part headers are garbage. */
export const MALFORMED = `${head('malformed mime', 'Content-Type: multipart/mixed; boundary="XX"\r\n')}\r\n--XX\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!not base64!!!\r\n--XX\r\nContent-Type: multipart/alternative; boundary=\r\nContent-Disposition: attachment; filename="a\r\n\r\n--XX--garbage\r\n--YY\r\n`;

/** A text part and an attachment of `bytes` bytes (base64, 76-character lines). */
export function bigAttachment(bytes: number): Buffer {
  const data = Buffer.alloc(bytes, 0x41);
  const b64 = data.toString('base64').replace(/.{76}/g, '$&\r\n');
  return Buffer.from(
    `${head('big attachment', 'Content-Type: multipart/mixed; boundary="b1"\r\n')}\r\n--b1\r\nContent-Type: text/plain\r\n\r\nsee the attachment\r\n--b1\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="big.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\n${b64}\r\n--b1--\r\n`,
  );
}

/** HTML with an inline image (cid:) and an attachment named like a page. */
export const INLINE_IMAGE = `${head('inline image', 'Content-Type: multipart/mixed; boundary="m"\r\n')}\r\n--m\r\nContent-Type: multipart/related; boundary="r"\r\n\r\n--r\r\nContent-Type: text/html\r\n\r\n<p>logo: <img id="logo" src="cid:logo@x"></p>\r\n--r\r\nContent-Type: image/gif\r\nContent-ID: <logo@x>\r\nContent-Transfer-Encoding: base64\r\n\r\nR0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7\r\n--r--\r\n--m\r\nContent-Type: text/html\r\nContent-Disposition: attachment; filename="evil.html"\r\n\r\n<script>alert(1)</script>\r\n--m--\r\n`;
