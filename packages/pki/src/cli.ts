#!/usr/bin/env -S npx tsx
// sstt-pki init|list|revoke <name>|renew [--days N] [name...]|export <name> [--password P] [--out FILE]
import { ConfigError, EXIT_CONFIG, loadScenario, parseCommandLine } from '@sstt/scenario';
import { importHelp } from './help.ts';
import { exportPkcs12, initPki, listCertificates, PkiError, renewCertificates, revokeCertificate } from './pki.ts';
import { leafNames } from './subjects.ts';

const USAGE = `usage: sstt-pki <command> [options]
  init [--password P] [--key-size 2048|3072|4096]
                            create whatever is missing under certs/ (never replaces the CA) and say how to import it
  list                      every certificate and DKIM key with subject, SANs, expiry and status
  revoke <name>             add a certificate to the CRL (name: a user, server, ipsec-server, ipsec-client)
  renew [--days N] [name…]  reissue leaves and DKIM keys (dkim-<selector>) that expire within N days (default 30), are revoked, or are named
  export <name> [--password P] [--out FILE]   write a PKCS#12 bundle (key, certificate, CA)
--password sets the PKCS#12 password (default: SSTT_P12_PASSWORD, pki.p12Password, else sstt<ID>);
--key-size the RSA size of new keys (default pki.keySize, else 2048).
Scenario options (--id, --profile, --certs-dir, ...) and SSTT_* variables apply.`;

const KEY_SIZES = [2048, 3072, 4096] as const;

async function main(argv: string[]): Promise<number> {
  const own = {
    days: { type: 'string' },
    password: { type: 'string' },
    out: { type: 'string' },
    'key-size': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  } as const;
  const { values, positionals } = parseCommandLine(argv, own, true);
  const [command, ...args] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return command || values.help ? 0 : EXIT_CONFIG;
  }
  const loaded = loadScenario({ flags: values });
  let keySize = loaded.pki.keySize;
  if (values['key-size'] !== undefined) {
    const n = Number(values['key-size']);
    if (!KEY_SIZES.includes(n as (typeof KEY_SIZES)[number])) {
      throw new ConfigError('command line', '--key-size', KEY_SIZES.join(', '), JSON.stringify(values['key-size']));
    }
    keySize = n as (typeof KEY_SIZES)[number];
  }
  const password = values.password === undefined ? loaded.pki.p12Password : String(values.password);
  if (password === '') throw new ConfigError('command line', '--password', 'a non-empty password', '""');
  const s = { ...loaded, pki: { ...loaded.pki, keySize, p12Password: password } };
  const log = (line: string) => console.log(line);
  switch (command) {
    case 'init': {
      const { created } = await initPki(s, { log });
      if (created.length === 0) console.log(`sstt-pki: every certificate already exists in ${s.paths.certs}`);
      console.log('');
      console.log(importHelp(s));
      return 0;
    }
    case 'list': {
      for (const c of listCertificates(s)) {
        const until = c.notAfter ? c.notAfter.toISOString().slice(0, 10) : '-';
        console.log(`${c.name.padEnd(16)} ${c.status.padEnd(8)} until ${until}  ${c.subject ?? c.file}`);
        if (c.sans?.length) console.log(`${''.padEnd(17)}SAN ${c.sans.join(', ')}`);
        if (c.status !== 'missing') console.log(`${''.padEnd(17)}${c.file}${c.p12 ? `  (+ ${c.p12})` : ''}`);
      }
      return 0;
    }
    case 'revoke': {
      if (args.length !== 1) throw new PkiError(`revoke needs one name: ${leafNames(s).join(', ')}`);
      await revokeCertificate(s, args[0]!, { log });
      return 0;
    }
    case 'renew': {
      const days = values.days === undefined ? 30 : Number(values.days);
      if (!Number.isInteger(days) || days < 0) throw new PkiError(`--days: expected a whole number of days, found ${JSON.stringify(values.days)}`);
      const renewed = await renewCertificates(s, { log, withinDays: days, ...(args.length ? { names: args } : {}) });
      if (renewed.length === 0) console.log(`sstt-pki: nothing expires within ${days} days`);
      return 0;
    }
    case 'export': {
      if (args.length !== 1) throw new PkiError(`export needs one name: ${leafNames(s).join(', ')}`);
      const out = exportPkcs12(s, args[0]!, {
        ...(values.out !== undefined ? { out: String(values.out) } : {}),
      });
      console.log(`wrote ${out}`);
      return 0;
    }
    default:
      throw new PkiError(`unknown command ${JSON.stringify(command)}; expected init, list, revoke, renew or export`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof ConfigError || err instanceof PkiError) {
      process.stderr.write(`sstt-pki: ${err.message}\n`);
      process.exitCode = EXIT_CONFIG;
      return;
    }
    throw err;
  },
);
