import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configJsonSchema } from '../src/index.ts';

describe('sstt.config.schema.json', () => {
  it('is the current output of the zod schema (run `npm run schema -w @sstt/scenario`)', () => {
    const committed = JSON.parse(fs.readFileSync(new URL('../sstt.config.schema.json', import.meta.url), 'utf8'));
    expect(committed).toEqual(configJsonSchema());
  });

  it('documents every port key', () => {
    const schema = configJsonSchema() as { properties: { ports: { properties: Record<string, unknown> } } };
    expect(Object.keys(schema.properties.ports.properties)).toEqual([
      'dns',
      'hostdns',
      'smtp',
      'submission',
      'pop3',
      'pop3s',
      'imap',
      'imaps',
      'http',
      'https',
      'console',
    ]);
  });
});
