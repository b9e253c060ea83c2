import type { Scenario } from '@sstt/scenario';

/** Generated files: path relative to infra/ -> content. */
export type GeneratedFiles = Map<string, string>;

/**
 * A generator is a pure function of the scenario (and the file it would replace, so that a
 * zone serial can increase only when the content changes): same input, byte-identical output.
 */
export type Generator = (s: Scenario, previous: (relPath: string) => string | undefined) => GeneratedFiles;
