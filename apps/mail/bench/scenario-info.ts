// Prints what the benchmark needs from the scenario (so run.sh spells no domain or user).
import { loadScenario } from '@sstt/scenario';

const s = loadScenario({ env: {}, flags: {}, configFile: undefined });
const user = s.users[1]!;
const sender = s.users[0]!;
process.stdout.write(
  `DOMAIN=${s.domain}\nHOSTNAME=${s.hostname}\nBENCH_USER=${user.name}\nBENCH_RCPT=${user.email}\nBENCH_FROM=${sender.email}\nMAX_SIZE=${s.mail.maxSize}\n`,
);
