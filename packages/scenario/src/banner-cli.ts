// `npm run dev` prints this table once, after the certificates exist and before the apps start.
import { ConfigError, EXIT_CONFIG } from './errors.ts';
import { loadScenario } from './load.ts';
import { bannerText } from './services.ts';

try {
  console.log(bannerText(loadScenario()));
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(`sstt: ${err.message}`);
  process.exit(EXIT_CONFIG);
}
