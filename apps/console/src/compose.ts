// Compose and reply as a user of the domain: the message goes through the domain's own
// submission service (RFC 6409, AUTH as that user), so it takes the real SMTP path, is
// delivered by our SMTP server and shows up in the sessions timeline like any other.
import fs from 'node:fs';
import { certPaths, type Scenario } from '@sstt/scenario';
import type { z } from 'zod';
import type { SendReply, SendRequest } from './api/schemas.ts';
import { commonJs } from '@sstt/runtime';

export class ComposeError extends Error {
  override readonly name = 'ComposeError';
  constructor(
    readonly status: 422 | 502,
    message: string,
  ) {
    super(message);
  }
}

/** The addresses of a field (its form was checked by the request's schema: a string or a list of strings). */
const list = (v: string | string[] | undefined, field: string): string[] => {
  const out = (Array.isArray(v) ? v : (v ?? '').split(',')).map((x) => x.trim()).filter(Boolean);
  for (const a of out) if (!/^[^\s@<>]+@[^\s@<>]+$/.test(a)) throw new ComposeError(422, `${field}: ${JSON.stringify(a.slice(0, 80))} is not an address`);
  return out;
};

export async function sendAsUser(s: Scenario, body: z.output<typeof SendRequest>): Promise<SendReply> {
  const user = s.users.find((u) => u.name === body.from || u.email === body.from);
  if (!user) throw new ComposeError(422, `from: expected one of ${s.users.map((u) => u.name).join(', ')}`);
  const to = list(body.to, 'to');
  const cc = list(body.cc, 'cc');
  if (to.length + cc.length === 0) throw new ComposeError(422, 'to: at least one recipient');
  const { subject, text } = body;
  const inReplyTo = body.inReplyTo && /^<[^<>\s]+>$/.test(body.inReplyTo) ? body.inReplyTo : undefined;
  const nodemailer = commonJs(await import('nodemailer'));
  const ca = certPaths(s).ca.cert;
  const transport = nodemailer.createTransport({
    host: s.listen.address,
    port: s.listen.ports.submission,
    secure: false,
    auth: { user: user.name, pass: user.password },
    // STARTTLS when the server offers it (with our CA); plaintext AUTH on loopback otherwise.
    tls: fs.existsSync(ca) ? { ca: fs.readFileSync(ca), servername: `smtp.${s.domain}` } : { rejectUnauthorized: false },
    connectionTimeout: 5000,
    greetingTimeout: 5000,
  });
  try {
    const info = await transport.sendMail({
      from: { name: user.firstName, address: user.email },
      to,
      cc,
      subject,
      text,
      ...(inReplyTo ? { inReplyTo, references: inReplyTo } : {}),
    });
    return { accepted: info.accepted.map(String), rejected: info.rejected.map(String), response: info.response, messageId: info.messageId };
  } catch (err) {
    throw new ComposeError(502, `submission ${s.listen.address}:${s.listen.ports.submission}: ${(err as Error).message}`);
  } finally {
    transport.close();
  }
}
