import type { Scenario } from '@sstt/scenario';

/** Generated files: path relative to infra/ -> content. */
export type GeneratedFiles = Map<string, string>;

/** A generator is a pure function of the scenario: same scenario, byte-identical output. */
export type Generator = (s: Scenario) => GeneratedFiles;
