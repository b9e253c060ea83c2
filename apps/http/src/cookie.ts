// The lab's cookie: `cookie_counter=N`, no cookie → 1, otherwise N+1, living two minutes
// (Max-Age and Expires, RFC 6265 §4.1); a request that already carries the limit is refused.
import { formatHttpDate } from './http-date.ts';

export interface CookieRule {
  name: string;
  maxAgeSeconds: number;
  /** The value at which access is refused (the lab: the tenth access gets 403). */
  limit: number;
}

/** The counter the request carries, or 0 when it has none (or an unreadable one). */
export function readCounter(cookieHeader: string | undefined, name: string): number {
  if (!cookieHeader) return 0;
  for (const pair of cookieHeader.split(';')) {
    const eq = pair.indexOf('=');
    if (eq < 0 || pair.slice(0, eq).trim() !== name) continue;
    const v = pair.slice(eq + 1).trim();
    if (/^\d{1,9}$/.test(v)) return Number(v);
    return 0;
  }
  return 0;
}

/** Whether the request has used up its accesses. */
export function isOverLimit(counter: number, rule: CookieRule): boolean {
  return counter >= rule.limit;
}

let expiresSecond = -1;
let expiresFor = -1;
let expiresText = '';
let expiresName = '';
let firstValue = '';

/** The Set-Cookie value for the next counter (the Expires date is formatted once per second). */
export function setCookieValue(counter: number, rule: CookieRule, now = Date.now()): string {
  const second = Math.floor(now / 1000);
  if (second !== expiresSecond || rule.maxAgeSeconds !== expiresFor || rule.name !== expiresName) {
    expiresSecond = second;
    expiresFor = rule.maxAgeSeconds;
    expiresName = rule.name;
    expiresText = formatHttpDate((second + rule.maxAgeSeconds) * 1000);
    firstValue = `${rule.name}=1; Max-Age=${rule.maxAgeSeconds}; Expires=${expiresText}; Path=/; HttpOnly`;
  }
  // A client without the cookie (the common case) gets the same value all through the second.
  if (counter === 0) return firstValue;
  return `${rule.name}=${counter + 1}; Max-Age=${rule.maxAgeSeconds}; Expires=${expiresText}; Path=/; HttpOnly`;
}
