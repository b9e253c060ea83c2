// What `sstt` refuses to do, with the reason: one line on stderr and exit status 2, like every
// configuration error of the project (EXIT_CONFIG).
export class HostError extends Error {
  override readonly name = 'HostError';
}
