// Login penalties, as dovecot's auth penalty (src/auth/auth-penalty.c): every failed login makes
// the client address, and the account when it exists, wait longer before its next answer: 2 s
// after the first failure, doubled per failure, at most 15 s (AUTH_PENALTY_INIT_SECS,
// AUTH_PENALTY_MAX_SECS); a successful login clears the penalty of its address and account, and
// one that is not renewed is forgotten after an hour (AUTH_PENALTY_TIMEOUT).
//
// A penalty only ever delays: a login attempted while a penalty runs waits until it has passed
// and is then checked like any other, so the right password always gets in (the former POP3
// lockout refused it for 10 minutes after 10 failures, and in the lab the whole class may be one
// address). One instance is shared by POP3, POP3S, SMTP and submission, so that changing
// protocol does not reset the count.

/** A penalty nobody renewed is forgotten after this long (dovecot's AUTH_PENALTY_TIMEOUT: 1 h). */
export const AUTH_PENALTY_FORGET_MS = 60 * 60_000;
/** Client addresses remembered at most (the oldest are forgotten first), so the table stays bounded. */
export const AUTH_PENALTY_MAX_ADDRESSES = 10_000;

export interface AuthPenaltyOptions {
  /** Delay after the first failure; doubled per failure. */
  baseMs: number;
  /** The longest delay. */
  maxMs: number;
  /** The clock of the penalty windows (ms); Date.now by default. */
  now?: () => number;
  /** How an attempt waits out a penalty and holds a failure's answer; a timer by default (tests record the delays). */
  sleep?: (ms: number) => Promise<void>;
}

interface Entry {
  failures: number;
  /** Until when an attempt has to wait. */
  until: number;
  /** Last failure: the entry is forgotten AUTH_PENALTY_FORGET_MS after it. */
  last: number;
}

const sleep = (ms: number) => new Promise<void>((r) => (ms > 0 ? setTimeout(r, ms).unref() : r()));

export class AuthPenalty {
  private readonly byAddress = new Map<string, Entry>();
  private readonly byAccount = new Map<string, Entry>();
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly opts: AuthPenaltyOptions) {
    this.now = opts.now ?? Date.now;
    this.sleep = opts.sleep ?? sleep;
  }

  /** The delay that answers the nth consecutive failure (0 for none). */
  delayFor(failures: number): number {
    if (failures <= 0) return 0;
    return Math.min(this.opts.baseMs * 2 ** Math.min(failures - 1, 30), this.opts.maxMs);
  }

  /** How long a login from `address` (for `account`, a known user) has to wait before it is checked. */
  waitMs(address: string, account?: string): number {
    const now = this.now();
    let until = this.entry(this.byAddress, address, now)?.until ?? 0;
    if (account !== undefined) until = Math.max(until, this.entry(this.byAccount, account, now)?.until ?? 0);
    return Math.max(0, until - now);
  }

  /** Counts a failure; returns how long to hold the failure reply. */
  failed(address: string, account?: string): number {
    const now = this.now();
    let failures = this.bump(this.byAddress, address, now);
    if (account !== undefined) failures = Math.max(failures, this.bump(this.byAccount, account, now));
    const delay = this.delayFor(failures);
    // Both entries end at the same time: a client that waits for the reply finds nothing left
    // to wait for; an attempt on another connection waits until then.
    this.byAddress.get(address)!.until = now + delay;
    if (account !== undefined) this.byAccount.get(account)!.until = now + delay;
    if (this.byAddress.size > AUTH_PENALTY_MAX_ADDRESSES) this.byAddress.delete(this.byAddress.keys().next().value!);
    return delay;
  }

  succeeded(address: string, account?: string): void {
    this.byAddress.delete(address);
    if (account !== undefined) this.byAccount.delete(account);
  }

  /**
   * One login attempt: waits out any penalty, runs `check` (which returns the logged-in user or
   * undefined), and on failure holds the answer for the new penalty.
   */
  async attempt<T>(address: string, account: string | undefined, check: () => T | undefined): Promise<T | undefined> {
    await this.sleep(this.waitMs(address, account));
    const user = check();
    if (user !== undefined) {
      this.succeeded(address, account);
      return user;
    }
    await this.sleep(this.failed(address, account));
    return undefined;
  }

  private entry(map: Map<string, Entry>, key: string, now: number): Entry | undefined {
    const e = map.get(key);
    if (e && now - e.last > AUTH_PENALTY_FORGET_MS) {
      map.delete(key);
      return undefined;
    }
    return e;
  }

  private bump(map: Map<string, Entry>, key: string, now: number): number {
    const e = this.entry(map, key, now);
    const failures = (e?.failures ?? 0) + 1;
    // Re-inserted at the end: the Map's order is the order of last failure (oldest first out).
    map.delete(key);
    map.set(key, { failures, until: e?.until ?? 0, last: now });
    return failures;
  }
}
