// Prints the scrypt hash of a password read from stdin, in the form src/users.ts stores:
//   printf %s 'the-password' | node scripts/hash-password.mjs
// (stdin, not an argument, so the password stays out of `ps` and the shell history.)
import { randomBytes, scrypt } from 'node:crypto';

const SCRYPT = { N: 16384, r: 8, p: 1 };
const KEY_LENGTH = 64;

let password = '';
process.stdin.setEncoding('utf8');
for await (const chunk of process.stdin) password += chunk;
if (password === '') {
  console.error('usage: printf %s PASSWORD | node scripts/hash-password.mjs');
  process.exit(1);
}
const salt = randomBytes(16);
scrypt(password, salt, KEY_LENGTH, SCRYPT, (error, key) => {
  if (error) throw error;
  console.log(JSON.stringify({ salt: salt.toString('base64'), hash: key.toString('base64') }));
});
