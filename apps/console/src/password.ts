// The console's HTTP Basic password (RFC 7617; any user name). The lab profile puts the console on
// the LAN, so the check must not tell an attacker how much of a guess was right: `===` on strings
// returns at the first differing character. The two passwords are compared as SHA-256 digests with
// crypto.timingSafeEqual, whose time depends on neither content; digests have one length, so the
// password's length does not leak either (timingSafeEqual itself refuses buffers of unequal
// length, and comparing lengths first would be the same leak). Hashing the guess takes time in
// the guess's length only, which the client knows already.
import crypto from 'node:crypto';

const digest = (text: string) => crypto.createHash('sha256').update(text, 'utf8').digest();

/** A checker of given passwords against `expected` (its digest computed once). */
export function passwordChecker(expected: string): (given: string) => boolean {
  const want = digest(expected);
  return (given) => crypto.timingSafeEqual(digest(given), want);
}
