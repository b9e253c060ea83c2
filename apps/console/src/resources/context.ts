// What the console's resources share: the scenario, the one way to serve an endpoint, and the
// stores the server's factory creates (the mailbox index opens in listen(), hence a getter).
import type { Scenario } from '@sstt/scenario';
import type { EventStreams } from '../connections.ts';
import type { MailIndex } from '../mail-index.ts';
import type { PkiJobs } from '../pki-jobs.ts';
import type { SessionStore } from '../sessions.ts';
import type { Serve } from './serve.ts';

export interface ResourceContext {
  s: Scenario;
  serve: Serve;
  index(): MailIndex;
  sessions: SessionStore;
  streams: EventStreams;
  pkiJobs: PkiJobs;
  /** Parse every event of the stream with its schema too (the tests). */
  checkReplies: boolean;
}
