// How the lab fails and how it waits: a LabError is a problem the user fixes (not root,
// leftovers, a tunnel or a service that does not come up), printed as one line with exit 2; every
// wait is bounded and ends in one.

export class LabError extends Error {}

/** Polls `check` until it holds; a LabError naming `what` after `timeoutMs`. */
export async function until(what: string, check: () => Promise<boolean>, timeoutMs: number, everyMs = 200): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new LabError(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
