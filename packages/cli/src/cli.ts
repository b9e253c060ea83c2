// `npx sstt trust [--client <user>] | untrust | resolve [--via M] | resolve --undo`: the only place
// that reads argv and the environment; refusals are one line on stderr and exit status 2.
import { ConfigError, EXIT_CONFIG, loadScenario, parseCommandLine } from '@sstt/scenario';
import { HostError } from './errors.ts';
import { invokerFrom } from './invoker.ts';
import { RESOLVE_METHODS, resolve, unresolve } from './resolve.ts';
import type { ResolveMethod } from './state.ts';
import { trust, untrust } from './trust.ts';

const USAGE = `usage: sstt <command> [options]
  trust [--client <user>]   put the lab CA (and that user's client certificate, .p12) into every trust
                            store of this machine: the system store, Java's, the NSS databases of
                            Chromium/Chrome, each Firefox and Thunderbird profile (deb, snap, flatpak)
  untrust                   remove exactly what trust did
  resolve [--via ${RESOLVE_METHODS.join('|')}]
                            make this machine resolve the domain (and the LAN's reverse zone) to where
                            the dev servers listen: through the DNS app where the resolver can route
                            one domain (systemd-resolved 258+, NetworkManager's dnsmasq, macOS), else /etc/hosts
  resolve --undo            remove exactly what resolve did
Run them with sudo for the system store and /etc; the invoking user's profiles are still written as that user.
What was done is recorded in var/host/state.json (before each change), so an undo after a crash removes
exactly that. Scenario options (--id, --profile, --certs-dir, --data-dir, --hostdns-port ...) and SSTT_* apply.`;

async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const own = {
    client: { type: 'string' },
    undo: { type: 'boolean' },
    via: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  } as const;
  const { values, positionals } = parseCommandLine(argv, own, true);
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return command || values.help ? 0 : EXIT_CONFIG;
  }
  if (rest.length > 0) throw new HostError(`${command}: unexpected ${JSON.stringify(rest.join(' '))}`);
  const only = (allowed: string[]) => {
    for (const flag of ['client', 'undo', 'via']) {
      if (values[flag] !== undefined && !allowed.includes(flag)) throw new HostError(`${command} takes no --${flag}`);
    }
  };
  const s = loadScenario({ flags: values, env });
  const inv = await invokerFrom(env);
  const say = (line: string) => console.log(line);
  switch (command) {
    case 'trust':
      only(['client']);
      await trust(s, { inv, say, ...(values.client !== undefined ? { client: String(values.client) } : {}) });
      return 0;
    case 'untrust':
      only([]);
      return (await untrust(s, { inv, say })) ? 0 : 1;
    case 'resolve': {
      only(['undo', 'via']);
      if (values.undo) {
        if (values.via !== undefined) throw new HostError('resolve --undo takes no --via: it undoes what the record says');
        return (await unresolve(s, { inv, say })) ? 0 : 1;
      }
      const via = values.via as string | undefined;
      if (via !== undefined && !RESOLVE_METHODS.includes(via as ResolveMethod)) {
        throw new HostError(`--via: expected one of ${RESOLVE_METHODS.join(', ')}, found ${JSON.stringify(via)}`);
      }
      await resolve(s, { inv, say, ...(via !== undefined ? { via: via as ResolveMethod } : {}) });
      return 0;
    }
    default:
      throw new HostError(`unknown command ${JSON.stringify(command)}; expected trust, untrust or resolve`);
  }
}

main(process.argv.slice(2), process.env).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof ConfigError || err instanceof HostError) {
      process.stderr.write(`sstt: ${err.message}\n`);
      process.exitCode = EXIT_CONFIG;
      return;
    }
    throw err;
  },
);
