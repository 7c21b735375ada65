import { scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/** A demo user as the token endpoint sees it. */
export interface User {
  username: string;
  /** Space-separated scopes, issued as the token's `scope` claim. */
  scope: string;
}

/** An scrypt hash: base64 salt (16 bytes) and base64 derived key (64 bytes). */
export interface PasswordHash {
  salt: string;
  hash: string;
}

/** scrypt cost: N=2^14, r=8, p=1 (16 MiB of memory per hash). */
export const SCRYPT_OPTIONS: ScryptOptions = { N: 16384, r: 8, p: 1 };
export const KEY_LENGTH = 64;

// Made with scripts/hash-password.mjs; the passwords themselves are only in examples/README.md.
const USERS = new Map<string, User & { password: PasswordHash }>([
  [
    'alice',
    {
      username: 'alice',
      scope: 'read',
      password: {
        salt: '/JxPXGnVRXJ/3xuOzQiN6A==',
        hash: '+o0lj6Fq5+sDcsXfEvRPAvVtnMEXM9UjVB+Sm+FLKwrgT5sWMsTU/pE04mA3ih9fu3tPkGsB8pYTjdqWcQaN9w==',
      },
    },
  ],
  [
    'admin',
    {
      username: 'admin',
      scope: 'read admin',
      password: {
        salt: 'u6gpdtVoIUPIzhT9V46FfA==',
        hash: 's9o2jPqFg8n0MtagUQ44p3oa7ljk+tTell3KI4t3aGsOqN6gK7O+On6PfNhhSJ3KIRd6y8TveTpTfojDsrgCvg==',
      },
    },
  ],
]);

/**
 * Unknown usernames are checked against this hash (of a random password that was thrown away), so
 * they take as long as known ones and the answer time does not tell which usernames exist.
 */
const DUMMY: PasswordHash = {
  salt: 'BUm5GLv8uvpkchWydkrlyg==',
  hash: 'Yms1tug3n4VEP2kPEupZJ9MYX3eFVZg5mf8LP8X1NTR0XdpkR6xra5nlhEztlfMhSfK+J0Mgc9FOhtRdQc3OJQ==',
};

function derive(password: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, KEY_LENGTH, SCRYPT_OPTIONS, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

/** Whether `password` matches `stored`, compared in constant time. */
export async function verifyPassword(password: string, stored: PasswordHash): Promise<boolean> {
  const expected = Buffer.from(stored.hash, 'base64');
  const actual = await derive(password, Buffer.from(stored.salt, 'base64'));
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** The user whose username and password these are, or `undefined`; one scrypt run either way. */
export async function checkCredentials(username: string, password: string): Promise<User | undefined> {
  const user = USERS.get(username);
  const matches = await verifyPassword(password, user?.password ?? DUMMY);
  return user !== undefined && matches ? { username: user.username, scope: user.scope } : undefined;
}
