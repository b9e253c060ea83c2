// What every step of `trust` / `untrust` works with.
import type { Scenario } from '@sstt/scenario';
import type { LabCa } from './ca.ts';
import type { Invoker } from './invoker.ts';
import type { HostPaths } from './paths.ts';
import type { Change, HostStateFile, Section } from './state.ts';

export interface StepContext {
  s: Scenario;
  inv: Invoker;
  state: HostStateFile;
  paths: HostPaths;
  /** One line of what was done or could not be done. */
  say(line: string): void;
}

export interface TrustContext extends StepContext {
  ca: LabCa;
}

/** The changes of a section recorded so far that match `pred`. */
export function recorded<K extends Change['kind']>(
  ctx: StepContext,
  which: Section,
  kind: K,
  pred: (c: Extract<Change, { kind: K }>) => boolean,
): Extract<Change, { kind: K }> | undefined {
  return ctx.state
    .section(which as 'trust')
    ?.changes.find((c): c is Extract<Change, { kind: K }> => c.kind === kind && pred(c as Extract<Change, { kind: K }>));
}

/**
 * Records `change`, then makes it; when making it fails the record is dropped again (nothing
 * happened) and the error goes on. A crash in between leaves the record: undo then checks the
 * machine before removing anything.
 */
export async function recordThenDo<T>(ctx: StepContext, which: Section, change: Change, act: () => Promise<T> | T): Promise<T> {
  ctx.state.record(which, change);
  try {
    return await act();
  } catch (err) {
    ctx.state.forget(which, change);
    throw err;
  }
}
