import crypto from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { passwordChecker } from './password.ts';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('passwordChecker', () => {
  it('takes the right password only: not one of the same length, a prefix, a longer one or none', () => {
    const check = passwordChecker('sesame');
    expect(check('sesame')).toBe(true);
    expect(check('sesamf')).toBe(false);
    expect(check('Sesame')).toBe(false);
    expect(check('sesam')).toBe(false);
    expect(check('sesame ')).toBe(false);
    expect(check('')).toBe(false);
    expect(passwordChecker('contraseña')('contraseña')).toBe(true);
    expect(passwordChecker('contraseña')('contrasena')).toBe(false);
  });

  it('compares 32-byte SHA-256 digests with timingSafeEqual, whatever the lengths of the two passwords', () => {
    const compare = vi.spyOn(crypto, 'timingSafeEqual');
    const check = passwordChecker('sesame');
    for (const guess of ['sesamf', 's', 'a much longer guess than the password', '']) expect(check(guess)).toBe(false);
    expect(check('sesame')).toBe(true);
    expect(compare).toHaveBeenCalledTimes(5);
    const sha = (t: string) => crypto.createHash('sha256').update(t).digest();
    for (const [i, guess] of ['sesamf', 's', 'a much longer guess than the password', '', 'sesame'].entries()) {
      const [a, b] = compare.mock.calls[i] as [Buffer, Buffer];
      expect([a.length, b.length]).toEqual([32, 32]);
      expect(Buffer.from(a).equals(sha(guess))).toBe(true);
      expect(Buffer.from(b).equals(sha('sesame'))).toBe(true);
    }
  });
});
