import { describe, expect, it } from 'vitest';
import { receivedField, receivedProtocol, receivedSmtpId, type ReceivedTrace } from './received.ts';

const trace: ReceivedTrace = {
  clientAddress: '192.0.2.101',
  helo: 'cliente',
  by: 'servidor.example.org',
  protocol: 'esmtp',
  envelopeFrom: 'nombre1@example.org',
  id: '1rAbCd-000Pid-Zz',
  for: 'nombre2@example.org',
  date: 'Tue, 05 Mar 2024 10:07:03 +0100',
};

/** The value of the field as a header parser gives it: after "Received:", folds unfolded (RFC 5322 §2.2.3). */
const unfolded = (field: string) =>
  field
    .slice('Received:'.length)
    .replace(/\r\n$/, '')
    .replace(/\r\n(?=[ \t])/g, '');

describe('the Received field', () => {
  it("is exim's layout, one clause a line", () => {
    expect(receivedField(trace)).toBe(
      'Received: from [192.0.2.101] (helo=cliente)\r\n' +
        '\tby servidor.example.org with esmtp (sstt-mail)\r\n' +
        '\t(envelope-from <nombre1@example.org>)\r\n' +
        '\tid 1rAbCd-000Pid-Zz\r\n' +
        '\tfor nombre2@example.org; Tue, 05 Mar 2024 10:07:03 +0100\r\n',
    );
    const { for: _, ...several } = trace;
    expect(receivedField({ ...several, envelopeFrom: '' })).toMatch(
      /\t\(envelope-from <>\)\r\n\tid 1rAbCd-000Pid-Zz\r\n\t; Tue, 05 Mar 2024 10:07:03 \+0100\r\n$/,
    );
  });

  it('round trip: the id written is the id read, folded or unfolded, with any protocol', () => {
    for (const protocol of ['smtp', 'esmtp', 'esmtps', 'esmtpa', 'esmtpsa']) {
      for (const id of ['1rAbCd-000Pid-Zz', 'b42', 'X']) {
        const field = receivedField({ ...trace, protocol, id });
        expect(receivedSmtpId(unfolded(field))).toBe(id);
        expect(receivedSmtpId(field.slice('Received:'.length))).toBe(id);
      }
    }
  });

  it("gives no id for another server's field, and reads only an id's characters", () => {
    expect(receivedSmtpId(' from mail.example.org by mx.example.org with esmtp id 1rAbCd-000Pid-Zz; Tue, 05 Mar 2024')).toBeUndefined();
    expect(receivedSmtpId(' from cliente by server with esmtp')).toBeUndefined();
    expect(receivedSmtpId('')).toBeUndefined();
    // the mark without an id after it
    expect(receivedSmtpId(' id early by x with esmtp (sstt-mail); Tue')).toBeUndefined();
    expect(receivedSmtpId(' by x with esmtp (sstt-mail)\tid abc;def')).toBe('abc');
    // "id" inside a word is not the clause
    expect(receivedSmtpId(' by x with esmtp (sstt-mail)\t(envelope-from <paid @x>)\tid real')).toBe('real');
  });

  it('names the protocol as RFC 3848 does', () => {
    const p = (esmtp: boolean, tls: boolean, authenticated: boolean) => receivedProtocol({ esmtp, tls, authenticated });
    expect([p(false, false, false), p(true, false, false), p(true, true, false), p(true, false, true), p(true, true, true)]).toEqual([
      'smtp',
      'esmtp',
      'esmtps',
      'esmtpa',
      'esmtpsa',
    ]);
  });
});
