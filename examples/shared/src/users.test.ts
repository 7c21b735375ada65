import { randomBytes, scrypt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkCredentials, KEY_LENGTH, SCRYPT_OPTIONS, verifyPassword } from './users.js';

describe('checkCredentials', () => {
  it.each([
    ['alice', 'alice-password', 'read'],
    ['admin', 'admin-password', 'read admin'],
  ])('returns %s for the right password', async (username, password, scope) => {
    expect(await checkCredentials(username, password)).toEqual({ username, scope });
  });

  it.each([
    ['a wrong password', 'alice', 'admin-password'],
    ['an empty password', 'alice', ''],
    ['the password with a trailing space', 'alice', 'alice-password '],
    ['a differently cased username', 'Alice', 'alice-password'],
    ['an unknown user', 'mallory', 'alice-password'],
    ['an inherited property name', '__proto__', 'alice-password'],
  ])('returns undefined for %s', async (_name, username, password) => {
    expect(await checkCredentials(username, password)).toBeUndefined();
  });
});

describe('verifyPassword', () => {
  it('checks against an scrypt hash made with the parameters of the stored users', async () => {
    const salt = randomBytes(16);
    const key = await new Promise<Buffer>((resolve, reject) =>
      scrypt('s3cret', salt, KEY_LENGTH, SCRYPT_OPTIONS, (error, derived) => (error ? reject(error) : resolve(derived))),
    );
    const stored = { salt: salt.toString('base64'), hash: key.toString('base64') };
    expect(await verifyPassword('s3cret', stored)).toBe(true);
    expect(await verifyPassword('s3cret!', stored)).toBe(false);
    // A stored hash of another length never matches (and never throws in timingSafeEqual).
    expect(await verifyPassword('s3cret', { ...stored, hash: key.subarray(0, 32).toString('base64') })).toBe(false);
  });
});
