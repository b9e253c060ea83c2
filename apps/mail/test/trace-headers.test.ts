// The trace headers we put in front of every delivered message, byte for byte: their layout is
// exim's (the lab's traces and the seed's Maildir files match it), and the console reads the
// message id back from the Received field (@sstt/maildir received.ts).
import type { SMTPServerSession } from 'smtp-server';
import { afterAll, describe, expect, it } from 'vitest';
import { receivedSmtpId } from '@sstt/maildir';
import { rfc5322Date } from '../src/smtp-date.ts';
import { traceHeaders } from '../src/smtp.ts';
import { testScenario } from './helpers.ts';

const w = testScenario();
afterAll(() => w.remove());
const s = w.s;
const at = new Date(Date.UTC(2024, 2, 5, 9, 7, 3));

/** The fields of a session traceHeaders reads. */
function session(o: { rcpts: string[]; from?: string; esmtp?: boolean; secure?: boolean; user?: string }): SMTPServerSession {
  return {
    remoteAddress: '192.0.2.101',
    hostNameAppearsAs: 'cliente',
    transmissionType: o.esmtp === false ? 'SMTP' : 'ESMTP',
    secure: o.secure ?? false,
    user: o.user,
    envelope: { mailFrom: o.from === undefined ? false : { address: o.from, args: false }, rcptTo: o.rcpts.map((address) => ({ address, args: false })) },
  } as unknown as SMTPServerSession;
}

describe('traceHeaders', () => {
  const host = `${s.hostname}.${s.domain}`;

  it('writes Return-Path and a Received field in exim layout, one recipient named', () => {
    expect(rfc5322Date(at)).toMatch(/^\w{3}, \d{2} \w{3} 2024 \d{2}:\d{2}:03 [+-]\d{4}$/);
    const text = traceHeaders(s, session({ from: 'nombre1@x.org', rcpts: ['nombre2@y.org'] }), '1rAbCd-000Pid-Zz', at);
    expect(text).toBe(
      'Return-Path: <nombre1@x.org>\r\n' +
        'Received: from [192.0.2.101] (helo=cliente)\r\n' +
        `\tby ${host} with esmtp (sstt-mail)\r\n` +
        '\t(envelope-from <nombre1@x.org>)\r\n' +
        '\tid 1rAbCd-000Pid-Zz\r\n' +
        `\tfor nombre2@y.org; ${rfc5322Date(at)}\r\n`,
    );
  });

  it('names no recipient when there are several, and the null sender as <>', () => {
    const text = traceHeaders(s, session({ rcpts: ['a@y.org', 'b@y.org'] }), 'X', at);
    expect(text).toBe(
      'Return-Path: <>\r\n' +
        'Received: from [192.0.2.101] (helo=cliente)\r\n' +
        `\tby ${host} with esmtp (sstt-mail)\r\n` +
        '\t(envelope-from <>)\r\n' +
        '\tid X\r\n' +
        `\t; ${rfc5322Date(at)}\r\n`,
    );
  });

  it('says the RFC 3848 protocol: smtp, esmtps, esmtpa, esmtpsa', () => {
    const proto = (o: Parameters<typeof session>[0]) => / with (\S+) \(sstt-mail\)/.exec(traceHeaders(s, session(o), 'X', at))![1];
    expect(proto({ rcpts: ['a@y.org'], esmtp: false })).toBe('smtp');
    expect(proto({ rcpts: ['a@y.org'], secure: true })).toBe('esmtps');
    expect(proto({ rcpts: ['a@y.org'], user: 'nombre1' })).toBe('esmtpa');
    expect(proto({ rcpts: ['a@y.org'], secure: true, user: 'nombre1' })).toBe('esmtpsa');
  });

  it('is read back by the console: the id of the Received field, unfolded as a header parser gives it', () => {
    const text = traceHeaders(s, session({ from: 'a@x.org', rcpts: ['b@y.org'] }), '1rAbCd-000Pid-Zz', at);
    const received = /\r\nReceived:((?:[^\r]*\r\n)(?:\t[^\r]*\r\n)*)/.exec(text)![1]!;
    expect(receivedSmtpId(received.replace(/\r\n(?=\t)/g, '').replace(/\r\n$/, ''))).toBe('1rAbCd-000Pid-Zz');
  });
});
