// The Received field our SMTP server puts on every message it delivers (RFC 5321 §4.4), and the
// one thing the console reads back from it: the id of the message, which the SMTP session also
// said in its "250 OK id=<id>" reply, so a message leads to the session that brought it.
//
// The layout is exim's (the lab's traces are compared with exim's), one clause per line (RFC 5737
// and RFC 2606 example values):
//   Received: from [192.0.2.101] (helo=cliente)
//   <TAB>by servidor.example.org with esmtp (sstt-mail)
//   <TAB>(envelope-from <nombre1@example.org>)
//   <TAB>id 1rAbCd-000Pid-Zz
//   <TAB>for nombre2@example.org; Tue, 05 Mar 2024 10:07:03 +0100
// Our comment "(sstt-mail)" marks our own field: only a field with it gives an id. What the client
// chose (its HELO name, the envelope addresses) holds no white space (smtp-server splits the
// commands on it), so the "id " after our mark is always ours.

/** The comment after "with <protocol>" that marks a Received field as ours. */
export const RECEIVED_MARK = '(sstt-mail)';

export interface ReceivedTrace {
  /** The client's IP address, as the socket gives it. */
  clientAddress: string;
  /** The name the client gave in HELO/EHLO. */
  helo: string;
  /** Our host's name (FQDN). */
  by: string;
  /** The protocol name of RFC 3848, lower case as exim writes it (receivedProtocol). */
  protocol: string;
  /** The envelope sender, '' for the null sender. */
  envelopeFrom: string;
  /** The message id, as the 250 reply to DATA says it. */
  id: string;
  /** The recipient, when there is only one (exim names no recipient of several). */
  for?: string;
  /** RFC 5322 §3.3 date-time. */
  date: string;
}

/** RFC 3848: smtp (HELO), esmtp (EHLO), with "s" after TLS and "a" after AUTH. */
export function receivedProtocol(o: { esmtp: boolean; tls: boolean; authenticated: boolean }): string {
  return `${o.esmtp ? 'esmtp' : 'smtp'}${o.tls ? 's' : ''}${o.authenticated ? 'a' : ''}`;
}

/** The whole field, folded as exim folds it, CRLF-terminated. */
export function receivedField(t: ReceivedTrace): string {
  const lines = [
    `Received: from [${t.clientAddress}] (helo=${t.helo})`,
    `\tby ${t.by} with ${t.protocol} ${RECEIVED_MARK}`,
    `\t(envelope-from <${t.envelopeFrom}>)`,
    `\tid ${t.id}`,
    t.for === undefined ? `\t; ${t.date}` : `\tfor ${t.for}; ${t.date}`,
  ];
  return `${lines.join('\r\n')}\r\n`;
}

const ID_AFTER_MARK = new RegExp(`${RECEIVED_MARK.replace(/[()]/g, '\\$&')}[\\s\\S]*?\\bid ([0-9A-Za-z-]+)`);

/**
 * The message id of a Received field's value (what follows "Received:", folded or unfolded),
 * when the field is ours; undefined for anyone else's field. Only the first "id" after our mark
 * counts, and only its letters, digits and "-" (an id as exim and we write them).
 */
export function receivedSmtpId(value: string): string | undefined {
  return ID_AFTER_MARK.exec(value)?.[1];
}
