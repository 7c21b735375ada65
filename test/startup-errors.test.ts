import { createTokenIssuer } from '@jwtauth/issuer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HS_SECRET, makeKeys, type Keys } from './fixtures.js';
import { harnesses, type AnyOptions } from './harness/index.js';

// Misconfigurations are a TypeError when jwtAuth is created, in every framework, with a message
// that says what to fix (the wording itself is unit-tested in packages/core/src/config.test.ts).

let keys: Keys;
beforeAll(async () => {
  keys = await makeKeys();
});
afterAll(() => keys.close());

const issuer = createTokenIssuer({ key: HS_SECRET });

const mistakes: [string, () => AnyOptions, RegExp][] = [
  ['secret: undefined (an unset environment variable)', () => ({ secret: process.env.JWTAUTH_TEST_UNSET_VARIABLE }), /JWT_SECRET/],
  ['jwks given as a string', () => ({ jwks: keys.jwksUri as unknown as { uri: string } }), /jwks: \{ uri/],
  ['jwks: { url } instead of uri', () => ({ jwks: { url: keys.jwksUri } as unknown as { uri: string } }), /named "uri"/],
  ['no key source at all', () => ({ audience: 'api' }), /secret.*jwks.*discovery.*issuers/],
  ['two key sources', () => ({ secret: HS_SECRET, jwks: { uri: keys.jwksUri } }), /exactly one of/],
  ['a public key PEM read as bytes (readFileSync without utf8)', () => ({ secret: new TextEncoder().encode(keys.rsPublicPem) }), /PEM/],
  ["a clockTolerance longer than the token issuer's revocation grace", () => ({ ...issuer.verifierOptions, clockTolerance: '10m' }), /revocationGrace/],
  ['a requireExp that is not a boolean', () => ({ secret: HS_SECRET, requireExp: 'no' as unknown as boolean }), /requireExp/],
  ['an onEvent that is not a function', () => ({ secret: HS_SECRET, onEvent: 'console.log' as unknown as () => void }), /onEvent/],
];

describe.each(harnesses)('$name adapter', (harness) => {
  it.each(mistakes)('refuses %s with a TypeError at creation', async (_, options, message) => {
    const started = harness.start(options());
    await expect(started).rejects.toThrow(TypeError);
    await expect(started).rejects.toThrow(message);
  });
});
