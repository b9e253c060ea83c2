// compare's judgement on dialogues (no lab): identical ones differ in nothing; a deliberate
// defect on our side is named by its step; the rules remove only what they say, each with a reason.
import { describe, expect, it } from 'vitest';
import { COMPARE_RULES, normalise } from './compare-rules.ts';
import { type CompareStep, differences } from './compare.ts';

/** A reference side as the reference lab's capture gives it (two IDs: 4331 ours, 4332 reference). */
function side(id: string): Record<CompareStep, string[]> {
  return {
    dns: [`www.sstt${id}.org 28: rcode 0 aa 1 ra 1 counts 0/1/1`, `  sstt${id}.org 6 ttl 300`, '  <Root> 41 ttl '],
    smtp: [
      'S: 220 servidor ESMTP Exim 4.96 Mon, 07 Dec 2026 00:31:07 +0000',
      'C: EHLO [192.0.2.101]',
      'S: 250-servidor Hello cliente [192.0.2.101]',
      'S: 250-SIZE 52428800',
      'S: 250-8BITMIME',
      'S: 250-PIPELINING',
      'S: 250 HELP',
      `C: MAIL FROM:<nombre1_${id}@sstt${id}.org> BODY=8BITMIME SIZE=222`,
      'S: 250 OK',
    ],
    pop3: ['S: +OK Dovecot (Debian) ready.', 'C: CAPA', 'S: +OK', 'S: SASL PLAIN LOGIN', 'S: .'],
    http: ['S: 200 Date Server Content-Type Set-Cookie Connection'],
    tls: ['ServerHello version 0x0303', `CertificateRequest CA names Murcia, UMU, Servicios Telematicos ${id}, ca.sstt${id}.org`],
    ike: ['34 encr 12; prf 5; integ 12; dh 31', '35', '37'],
    dkim: [`d=sstt${id}.org s=ed25519 a=ed25519-sha256 c=relaxed/relaxed`, `d=sstt${id}.org s=rsa a=rsa-sha256 c=relaxed/relaxed`],
  };
}

describe('compare', () => {
  it('finds nothing between two labs that differ only in what the rules explain', () => {
    const ours = side('4331');
    ours.smtp[0] = 'S: 220 server ESMTP sstt-mail Mon, 07 Dec 2026 00:33:05 +0000';
    ours.pop3[0] = 'S: +OK sstt ready.';
    ours.ike.pop(); // no INFORMATIONAL: that lab was stopped differently
    expect(differences(ours, side('4332'))).toEqual([]);
  });

  it('names the step of a deliberate defect: the AAAA NODATA without the SOA, a changed EHLO keyword', () => {
    const ours = side('4331');
    ours.dns = ['www.sstt4331.org 28: rcode 0 aa 1 ra 1 counts 0/0/1', '  <Root> 41 ttl '];
    ours.smtp[5] = 'S: 250-PIPELINING-X';
    expect(differences(ours, side('4332'))).toEqual([
      { step: 'dns', ours: 'www.sstt<ID>.org 28: rcode 0 aa 1 ra 1 counts 0/0/1', reference: 'www.sstt<ID>.org 28: rcode 0 aa 1 ra 1 counts 0/1/1' },
      { step: 'smtp', ours: 'S: 250-PIPELINING-X', reference: 'S: 250-PIPELINING' },
    ]);
  });

  it('names the dkim step when our relayed message lacks the Ed25519 signature, or signs with other canonicalization', () => {
    const ours = side('4331');
    ours.dkim = [ours.dkim[1]!];
    expect(differences(ours, side('4332'))).toEqual([
      { step: 'dkim', ours: 'd=sstt<ID>.org s=rsa a=rsa-sha256 c=relaxed/relaxed', reference: 'd=sstt<ID>.org s=ed25519 a=ed25519-sha256 c=relaxed/relaxed' },
    ]);
    const simple = side('4331');
    simple.dkim = simple.dkim.map((l) => l.replace('c=relaxed/relaxed', 'c=relaxed/simple'));
    expect(differences(simple, side('4332'))[0]).toEqual({
      step: 'dkim',
      ours: 'd=sstt<ID>.org s=ed25519 a=ed25519-sha256 c=relaxed/simple',
      reference: 'd=sstt<ID>.org s=ed25519 a=ed25519-sha256 c=relaxed/relaxed',
    });
  });

  it('a line one side lacks is a difference too', () => {
    const ours = side('4331');
    ours.pop3 = ours.pop3.slice(0, 3);
    expect(differences(ours, side('4332'))).toEqual([{ step: 'pop3', ours: '', reference: 'S: SASL PLAIN LOGIN' }]);
  });

  it('every rule gives its reason, and rewrites only its own step', () => {
    for (const r of COMPARE_RULES) expect(r.why.length, String(r.pattern)).toBeGreaterThan(20);
    expect(normalise('dns', 'S: 250 OK id=1xaMfB-0000CE-01')).toBe('S: 250 OK id=1xaMfB-0000CE-01');
    expect(normalise('smtp', 'S: 250 OK id=1xaMfB-0000CE-01')).toBe('S: 250 OK id=<queue id>');
  });
});
