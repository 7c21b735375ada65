import { SignJWT } from 'jose';
import { describe, expect, inject, it } from 'vitest';
import { createAuthenticator } from '../authenticate.js';
import { signatureCheckName } from '../jwt/verify.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Which signature checks this test project runs core with (vitest.config.ts). */
    signatureChecks: 'node:crypto' | 'web-crypto';
  }
}

describe("the runtime's signature checks", () => {
  it(`are the ones this test project runs (${inject('signatureChecks')})`, () => {
    // On Node, core checks signatures with node:crypto; the web-crypto project swaps in the path
    // Bun, Deno and Workers take. Both projects run the conformance suite.
    expect(signatureCheckName()).toBe(inject('signatureChecks'));
  });

  it('verify and refuse tokens end to end', async () => {
    const secret = 'runtime-test-secret-long-enough-for-hs256!';
    const authenticator = createAuthenticator({ secret, algorithms: ['HS256'], cache: false });
    const token = await new SignJWT({ sub: 'alice' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('1h').sign(new TextEncoder().encode(secret));
    const send = async (value: string) => {
      const result = await authenticator.authenticate({ headers: { authorization: `Bearer ${value}` } }, new Request('http://127.0.0.1/'));
      return result.ok ? result.auth?.payload.sub : result.error.code;
    };
    expect(await send(token)).toBe('alice');
    expect(await send(`${token.slice(0, -2)}AA`)).toBe('invalid_signature');
  });

  it('refuse a forged token without collecting a stack trace, in the error or its cause', async () => {
    const secret = 'runtime-test-secret-long-enough-for-hs256!';
    const authenticator = createAuthenticator({ secret, algorithms: ['HS256'] });
    const token = await new SignJWT({ sub: 'mallory' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('another-secret-entirely-long-enough-hs256'));
    const result = await authenticator.authenticate({ headers: { authorization: `Bearer ${token}` } }, new Request('http://127.0.0.1/'));
    if (result.ok) throw new Error('a forged token was accepted');
    expect(result.error.code).toBe('invalid_signature');
    expect(result.error.stack).not.toMatch(/\n\s+at /);
    const cause = result.error.cause as Error & { code: string };
    expect([cause.code, cause.stack]).toEqual(['ERR_JWS_SIGNATURE_VERIFICATION_FAILED', expect.not.stringMatching(/\n\s+at /)]);
    // The switch is put back: other errors keep their stacks.
    expect(new Error('elsewhere').stack).toMatch(/\n\s+at /);
  });
});
