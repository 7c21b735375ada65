import { generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import { describe, expect, it } from 'vitest';
import { createAuthenticator } from './authenticate.js';
import type { AuthErrorCode } from './errors.js';
import type { AuthEvent } from './events.js';
import { createScopeGuard } from './guards.js';
import type { JwtAuthOptions } from './options.js';
import { StoreUnavailable } from './revocation-store.js';

const SECRET = 'passthrough-test-secret-0123456789abcdef-012345';
const now = () => Math.floor(Date.now() / 1000);

function sign(claims: JWTPayload = {}): Promise<string> {
  return new SignJWT({ sub: 'u1', exp: now() + 60, ...claims }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(SECRET));
}

type Options = Partial<JwtAuthOptions<JWTPayload, unknown, unknown>>;
const authenticator = (options: Options = {}) => createAuthenticator({ secret: SECRET, passthrough: true, ...options } as JwtAuthOptions);
const withAuthorization = (value?: string) => new Request('https://api.example/items', { headers: value === undefined ? {} : { authorization: value } });

describe('passthrough: true', () => {
  it.each<[string, () => Promise<string | undefined>, AuthErrorCode, number]>([
    ['no token', async () => undefined, 'missing_token', 401],
    ['a malformed header', async () => 'Bearer', 'malformed_header', 400],
    ['a token that is not a JWT', async () => 'Bearer not-a-jwt', 'malformed_token', 401],
    ['an expired token', async () => `Bearer ${await sign({ exp: now() - 600 })}`, 'token_expired', 401],
    ['a refresh token', async () => `Bearer ${await sign({ token_type: 'refresh' })}`, 'wrong_token_type', 401],
  ])('lets a request with %s go on unauthenticated, with the error', async (_, header, code, status) => {
    const request = withAuthorization(await header());
    const result = await authenticator().authenticate(request, request);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.auth).toBeUndefined();
    expect(result.user).toBeUndefined();
    expect(result.error?.code).toBe(code);
    expect(result.error?.status).toBe(status);
  });

  it('passes a revocation store outage through as store_unavailable (503)', async () => {
    const request = withAuthorization(`Bearer ${await sign()}`);
    const auth = authenticator({
      isRevoked: () => {
        throw new StoreUnavailable('redis down');
      },
    });
    const result = await auth.authenticate(request, request);
    expect(result.ok && result.auth === undefined && result.error?.code).toBe('store_unavailable');
    expect(result.ok && result.error?.status).toBe(503);
  });

  it('passes a key outage through as key_unavailable (503)', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const token = await new SignJWT({ exp: now() + 60 }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).sign(privateKey);
    const request = withAuthorization(`Bearer ${token}`);
    const auth = createAuthenticator({
      jwks: { uri: 'https://issuer.example/jwks.json' },
      algorithms: ['RS256'],
      fetch: async () => new Response('down', { status: 500 }),
      passthrough: true,
    });
    const result = await auth.authenticate(request, request);
    expect(result.ok && result.auth === undefined && result.error?.code).toBe('key_unavailable');
  });

  it('attaches a valid token as usual, with no error', async () => {
    const request = withAuthorization(`Bearer ${await sign()}`);
    const result = await authenticator().authenticate(request, request);
    expect(result.ok && result.auth?.payload.sub).toBe('u1');
    expect(result.error).toBeUndefined();
  });

  it('still sends a throwing hook to the error path', async () => {
    const boom = new Error('user store down');
    const request = withAuthorization(`Bearer ${await sign()}`);
    await expect(
      authenticator({
        resolveUser: () => {
          throw boom;
        },
      }).authenticate(request, request),
    ).rejects.toBe(boom);
    await expect(authenticator({ isRevoked: () => Promise.reject(boom) }).authenticate(request, request)).rejects.toBe(boom);
  });

  it('still reports each failure to onEvent', async () => {
    const events: AuthEvent[] = [];
    const auth = authenticator({ onEvent: (event) => events.push(event) });
    const expired = withAuthorization(`Bearer ${await sign({ exp: now() - 600 })}`);
    await auth.authenticate(expired, expired);
    await auth.authenticate(withAuthorization(), undefined);
    expect(events.map((event) => event.type === 'auth.failed' && event.code)).toEqual(['token_expired', 'missing_token']);
  });

  it('passes a missing token with no error when credentials are not required', async () => {
    const request = withAuthorization();
    expect(await authenticator({ credentialsRequired: false }).authenticate(request, request)).toEqual({ ok: true, auth: undefined, user: undefined });
  });

  it('lets the request through even with forwardErrors: nothing is forwarded', async () => {
    const request = withAuthorization('Bearer not-a-jwt');
    const result = await authenticator({ forwardErrors: true }).authenticate(request, request);
    expect(result.ok && result.error?.code).toBe('malformed_token');
  });

  it('leaves guards to answer such a request 401 missing_token', async () => {
    const request = withAuthorization('Bearer not-a-jwt');
    const result = await authenticator().authenticate(request, request);
    const decision = await createScopeGuard(['admin'])(result.ok ? result.auth : undefined);
    expect(!decision.ok && [decision.error.status, decision.error.code]).toEqual([401, 'missing_token']);
  });

  it('is off by default: failures are answered', async () => {
    const request = withAuthorization();
    const result = await authenticator({ passthrough: false }).authenticate(request, request);
    expect(!result.ok && result.error.code).toBe('missing_token');
  });

  it.each([
    ['a string', 'yes'],
    ['a number', 1],
    ['null', null],
  ])('refuses %s at creation', (_, passthrough) => {
    expect(() => authenticator({ passthrough } as unknown as Options)).toThrow('"passthrough" must be true or false.');
  });
});
