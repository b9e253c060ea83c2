// Which system store a machine has, and the command that makes it take in (or drop) an anchor:
// Debian's update-ca-certificates is run for real in test/host.test.ts; Fedora's update-ca-trust
// is this code path.
import { describe, expect, it } from 'vitest';
import { refreshArgv, systemTool } from './system-store.ts';

describe('the system store', () => {
  it("is Debian's when update-ca-certificates is there, else Fedora's, else none", () => {
    const only =
      (...names: string[]) =>
      (name: string) =>
        names.includes(name) ? `/usr/sbin/${name}` : undefined;
    expect(systemTool(only('update-ca-certificates', 'update-ca-trust'))).toEqual({ flavor: 'debian', tool: '/usr/sbin/update-ca-certificates' });
    expect(systemTool(only('update-ca-trust'))).toEqual({ flavor: 'fedora', tool: '/usr/sbin/update-ca-trust' });
    expect(systemTool(only())).toBeUndefined();
  });

  it('is refreshed by update-ca-certificates (no --fresh: it would relink every certificate) or update-ca-trust extract', () => {
    expect(refreshArgv({ flavor: 'debian', tool: '/usr/sbin/update-ca-certificates' })).toEqual(['/usr/sbin/update-ca-certificates']);
    expect(refreshArgv({ flavor: 'fedora', tool: '/usr/bin/update-ca-trust' })).toEqual(['/usr/bin/update-ca-trust', 'extract']);
  });
});
