/**
 * Remote key sets (issues 4 and 7) through one adapter over real HTTP: caching, rotation under
 * load, the refetch cooldown, stale-while-revalidate, maxStale, failure modes of the key server
 * (stale-if-error, 503, backoff, recovery), OpenID/RFC 8414 discovery, several issuers, which JWKs
 * may verify which algorithms, the key-set events and the cause of key_unavailable.
 *
 * Timing-sensitive tests use short durations (hundreds of milliseconds) and bounded sleeps; they
 * assert what the key server was asked and what the client saw. The one time bound (an aged set
 * answers while the provider hangs) is generous: half the timeout a waiting request would take.
 */
import { generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { createAuthenticator, type AuthEvent } from '@jwtauth/core';
import { exportJWK, type JWK } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DESCRIPTIONS } from './cases.js';
import { HS_SECRET, sign } from './fixtures.js';
import { expressHarness } from './harness/express.js';
import { harnesses, type AnyOptions, type RunningServer } from './harness/index.js';
import { startKeyServer, type KeyServer, type KeyServerMode } from './jwks-server.js';

// ---------------------------------------------------------------------------------------------
// Unhandled rejections: none may escape core, whatever the key server does.

const unhandled: unknown[] = [];
const recordUnhandled = (reason: unknown) => {
  unhandled.push(reason);
};
beforeAll(() => {
  process.on('unhandledRejection', recordUnhandled);
});
afterAll(() => {
  process.off('unhandledRejection', recordUnhandled);
});

// ---------------------------------------------------------------------------------------------
// Keys

interface Pair {
  privateKey: KeyObject;
  jwk: JWK;
}
const generate = promisify(generateKeyPair);
/** A fresh key pair, made off the main thread (RSA generation is slow on a busy machine). */
async function pair(kind: 'rsa' | 'ed25519' | 'P-256' | 'P-384' | 'P-521'): Promise<Pair> {
  const { privateKey, publicKey } =
    kind === 'rsa'
      ? await generate('rsa', { modulusLength: 2048 })
      : kind === 'ed25519'
        ? await generate('ed25519')
        : await generate('ec', { namedCurve: kind });
  return { privateKey, jwk: await exportJWK(publicKey) };
}

let rsa: Pair;
let rsaOther: Pair;
let rsaEnc: Pair;
let rsaOpsEncrypt: Pair;
let rsaOpsVerify: Pair;
let p256: Pair;
let p384: Pair;
let p521: Pair;
let ed: Pair;

beforeAll(async () => {
  [rsa, rsaOther, rsaEnc, rsaOpsEncrypt, rsaOpsVerify, p256, p384, p521, ed] = await Promise.all([
    pair('rsa'),
    pair('rsa'),
    pair('rsa'),
    pair('rsa'),
    pair('rsa'),
    pair('P-256'),
    pair('P-384'),
    pair('P-521'),
    pair('ed25519'),
  ]);
}, 60_000);

/** The public JWK of `key` published as `kid` (plus any other members). */
const published = (key: Pair, kid: string, extra: Partial<JWK> = {}): JWK => ({ ...key.jwk, kid, ...extra });

/** A token signed with `key`, `kid` in the header (omitted for `null`). */
function token(key: Pair, alg: string, kid: string | null, claims: Record<string, unknown> = {}): Promise<string> {
  return sign(claims, { alg, key: key.privateKey, header: kid === null ? {} : { kid } });
}

// ---------------------------------------------------------------------------------------------
// Servers, cleaned up after each test

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  const pending = cleanups.splice(0).reverse();
  for (const cleanup of pending) await cleanup();
});

async function keyServer(): Promise<KeyServer> {
  const server = await startKeyServer();
  cleanups.push(() => server.close());
  return server;
}

async function app(options: AnyOptions): Promise<RunningServer> {
  // The verified-token cache is off: these tests watch the key cache, which it would hide.
  const server = await expressHarness.start({ cache: false, ...options });
  cleanups.push(() => server.close());
  return server;
}

interface Seen {
  status: number;
  body: { error?: string; error_description?: string; code?: string; auth?: { payload: Record<string, unknown> } } | null;
  challenge: string | null;
  retryAfter: string | null;
}

async function get(server: RunningServer, bearer?: string): Promise<Seen> {
  const res = await fetch(`${server.url}/protected`, {
    headers: bearer === undefined ? {} : { authorization: `Bearer ${bearer}` },
  });
  const text = await res.text();
  return {
    status: res.status,
    body: text === '' ? null : JSON.parse(text),
    challenge: res.headers.get('www-authenticate'),
    retryAfter: res.headers.get('retry-after'),
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function expectOk(seen: Seen): void {
  expect(seen.status, JSON.stringify(seen.body)).toBe(200);
  expect(seen.body?.auth).toBeTruthy();
}

/** The contract's 503: temporarily_unavailable / key_unavailable, Retry-After, no challenge. */
function expectUnavailable(seen: Seen): void {
  expect(seen.status, JSON.stringify(seen.body)).toBe(503);
  expect(seen.body).toEqual({
    error: 'temporarily_unavailable',
    error_description: DESCRIPTIONS.key_unavailable,
    code: 'key_unavailable',
  });
  expect(seen.challenge).toBeNull();
  expect(seen.retryAfter).toMatch(/^[1-9][0-9]*$/);
}

/** A 401 invalid_token failure with one of `codes` and the matching challenge. */
function expectRejected(seen: Seen, ...codes: string[]): void {
  expect(seen.status, JSON.stringify(seen.body)).toBe(401);
  expect(seen.body?.error).toBe('invalid_token');
  expect(codes).toContain(seen.body?.code);
  expect(seen.challenge).toMatch(/^Bearer error="invalid_token", error_description="/);
  expect(seen.retryAfter).toBeNull();
}

/** Ways a key server fails, and how to make it do so. */
type Failure = Exclude<KeyServerMode, 'ok'> | 'unusable-keys';
const FAILURES: Failure[] = ['down', 'hang', '500', 'invalid-json', 'empty', 'unusable-keys'];

/** A set with no key that may verify: an encryption key and one whose key_ops exclude verify. */
const unusableKeys = () => [published(rsaEnc, 'k1', { use: 'enc' }), published(rsaOpsEncrypt, 'k1b', { key_ops: ['encrypt'] })];

async function breakServer(server: KeyServer, failure: Failure, path = '/jwks.json'): Promise<void> {
  if (failure === 'unusable-keys') server.setKeys(unusableKeys(), path);
  else await server.setMode(failure);
}

const JWKS = '/jwks.json';

// ---------------------------------------------------------------------------------------------

describe('remote JWK Set: fetching and caching', () => {
  it('fetches the keys on first use, not when the middleware is created', async () => {
    const ks = await keyServer();
    ks.setKeys([published(p256, 'k1')]);
    const api = await app({ jwks: { uri: ks.jwksUri } });
    await sleep(150);
    expect(ks.count()).toBe(0);
    expectOk(await get(api, await token(p256, 'ES256', 'k1')));
    expect(ks.count(JWKS)).toBe(1);
  });

  it('serves later requests from the cache (default cacheMaxAge)', async () => {
    const ks = await keyServer();
    ks.setKeys([published(p256, 'k1')]);
    const api = await app({ jwks: { uri: ks.jwksUri } });
    for (let i = 0; i < 5; i++) expectOk(await get(api, await token(p256, 'ES256', 'k1')));
    expect(ks.count(JWKS)).toBe(1);
  });

  it('fetches again once cacheMaxAge has passed', async () => {
    const ks = await keyServer();
    ks.setKeys([published(p256, 'k1')]);
    const api = await app({ jwks: { uri: ks.jwksUri, cacheMaxAge: 300 } });
    expectOk(await get(api, await token(p256, 'ES256', 'k1')));
    expectOk(await get(api, await token(p256, 'ES256', 'k1')));
    expect(ks.count(JWKS)).toBe(1);
    await sleep(450);
    expectOk(await get(api, await token(p256, 'ES256', 'k1')));
    expect(ks.count(JWKS)).toBe(2);
  });

  it('shares one fetch among many concurrent first requests', async () => {
    const ks = await keyServer();
    ks.setKeys([published(p256, 'k1')]);
    ks.setDelay(250);
    const api = await app({ jwks: { uri: ks.jwksUri } });
    const tokens = await Promise.all(Array.from({ length: 25 }, () => token(p256, 'ES256', 'k1')));
    const seen = await Promise.all(tokens.map((t) => get(api, t)));
    for (const s of seen) expectOk(s);
    expect(ks.count(JWKS)).toBe(1);
  });

  it('shares one failing fetch among many concurrent first requests', async () => {
    const ks = await keyServer();
    ks.setKeys([published(p256, 'k1')]);
    await ks.setMode('hang');
    const api = await app({ jwks: { uri: ks.jwksUri, timeoutDuration: 300 } });
    const tokens = await Promise.all(Array.from({ length: 10 }, () => token(p256, 'ES256', 'k1')));
    const seen = await Promise.all(tokens.map((t) => get(api, t)));
    for (const s of seen) expectUnavailable(s);
    expect(ks.count(JWKS)).toBe(1);
  }, 20_000);
});

describe('remote JWK Set: rotation and the refetch cooldown', () => {
  it('honours a kid the provider publishes right after our last fetch, with one more fetch', async () => {
    const ks = await keyServer();
    ks.setKeys([published(p256, 'k1')]);
    const api = await app({ jwks: { uri: ks.jwksUri } });
    expectOk(await get(api, await token(p256, 'ES256', 'k1')));
    expect(ks.count(JWKS)).toBe(1);

    // Within the default cooldown of the first fetch (the old design refused it for 30 s).
    ks.setKeys([published(p256, 'k1'), published(rsa, 'k2')]);
    expectOk(await get(api, await token(rsa, 'RS256', 'k2')));
    expect(ks.count(JWKS)).toBe(2);
    expectOk(await get(api, await token(rsa, 'RS256', 'k2')));
    expectOk(await get(api, await token(p256, 'ES256', 'k1')));
    expect(ks.count(JWKS)).toBe(2);
  });

  it('picks up a set where the old key was removed, and refuses the removed key', async () => {
    const ks = await keyServer();
    ks.setKeys([published(p256, 'k1')]);
    const api = await app({ jwks: { uri: ks.jwksUri, cooldownDuration: 300, cacheMaxAge: 300 } });
    expectOk(await get(api, await token(p256, 'ES256', 'k1')));
    ks.setKeys([published(rsa, 'k2')]);
    await sleep(450);
    expectOk(await get(api, await token(rsa, 'RS256', 'k2')));
    expectRejected(await get(api, await token(p256, 'ES256', 'k1')), 'invalid_signature');
  });

  it('makes a kid published within the cooldown wait for the next fetch, shared, and honours it', async () => {
    const ks = await keyServer();
    ks.setKeys([published(p256, 'k1')]);
    const api = await app({ jwks: { uri: ks.jwksUri, cooldownDuration: 600 } });
    expectOk(await get(api, await token(p256, 'ES256', 'k1')));
    // A forged kid spends the refetch the cooldown allows...
    expectRejected(await get(api, await token(p256, 'ES256', 'forged')), 'invalid_signature');
    expect(ks.count(JWKS)).toBe(2);
    // ...so the key published now is only seen by the next fetch, which these requests await.
    ks.setKeys([published(p256, 'k1'), published(ed, 'k2')]);
    const tokens = await Promise.all(Array.from({ length: 10 }, () => token(ed, 'EdDSA', 'k2')));
    for (const seen of await Promise.all(tokens.map((t) => get(api, t)))) expectOk(seen);
    expect(ks.count(JWKS)).toBe(3);
  });

  it('refuses a published kid used with an algorithm its key cannot verify at once, without fetching', async () => {
    const ks = await keyServer();
    ks.setKeys([published(p256, 'k1'), published(rsaEnc, 'enc', { use: 'enc' })]);
    const api = await app({ jwks: { uri: ks.jwksUri, cooldownDuration: 60_000 } });
    expectOk(await get(api, await token(p256, 'ES256', 'k1')));
    expectRejected(await get(api, await token(rsa, 'RS256', 'k1')), 'invalid_signature');
    expectRejected(await get(api, await token(rsaEnc, 'RS256', 'enc')), 'invalid_signature');
    expect(ks.count(JWKS)).toBe(1);
  });

  it('refuses an unknown kid at once instead of waiting when the cooldown is longer than 10 s', async () => {
    const ks = await keyServer();
    ks.setKeys([published(p256, 'k1')]);
    const api = await app({ jwks: { uri: ks.jwksUri, cooldownDuration: 60_000 } });
    expectOk(await get(api, await token(p256, 'ES256', 'k1')));
    expectRejected(await get(api, await token(p256, 'ES256', 'forged-1')), 'invalid_signature');
    expect(ks.count(JWKS)).toBe(2);
    // Waiting 60 s would time this test out.
    expectRejected(await get(api, await token(p256, 'ES256', 'forged-2')), 'invalid_signature');
    expect(ks.count(JWKS)).toBe(2);
  });

  it('costs at most one fetch per cooldown under a flood of forged kids, and refuses each one', async () => {
    const ks = await keyServer();
    ks.setKeys([published(p256, 'k1')]);
    const cooldown = 250;
    const api = await app({ jwks: { uri: ks.jwksUri, cooldownDuration: cooldown } });
    expectOk(await get(api, await token(p256, 'ES256', 'k1')));
    ks.resetCounts();

    const started = Date.now();
    let forged = 0;
    const attacker = async (id: number) => {
      while (Date.now() - started < 1500) {
        expectRejected(await get(api, await token(p256, 'ES256', `forged-${id}-${forged++}`)), 'invalid_signature');
      }
    };
    await Promise.all(Array.from({ length: 8 }, (_, id) => attacker(id)));
    const elapsed = Date.now() - started;
    expect(forged).toBeGreaterThan(8);
    expect(ks.count(JWKS)).toBeGreaterThanOrEqual(1);
    // One fetch per cooldown, plus the one a request that arrived just before the end may await.
    expect(ks.count(JWKS)).toBeLessThanOrEqual(Math.ceil(elapsed / cooldown) + 1);
  });

  it('rotates in a new kid under load without a single failed request, while forged kids cost one fetch per cooldown', async () => {
    const ks = await keyServer();
    ks.setKeys([published(p256, 'old')]);
    const cooldown = 300;
    const api = await app({ jwks: { uri: ks.jwksUri, cooldownDuration: cooldown } });
    expectOk(await get(api, await token(p256, 'ES256', 'old')));
    ks.resetCounts();

    const oldToken = await token(p256, 'ES256', 'old');
    const newToken = await token(p384, 'ES384', 'new');
    const started = Date.now();
    const duration = 2000;
    let rotated = false;
    const failures: string[] = [];
    let legit = 0;
    let legitNew = 0;
    let forged = 0;

    const client = async (id: number) => {
      while (Date.now() - started < duration) {
        // Once the provider publishes the new key, it signs half of the tokens with it.
        const useNew = rotated && (id + legit) % 2 === 0;
        const seen = await get(api, useNew ? newToken : oldToken);
        legit += 1;
        if (useNew) legitNew += 1;
        if (seen.status !== 200) failures.push(`${useNew ? 'new' : 'old'} kid: ${seen.status} ${seen.body?.code}`);
      }
    };
    const attacker = async (id: number) => {
      while (Date.now() - started < duration) {
        expectRejected(await get(api, await token(p256, 'ES256', `forged-${id}-${forged++}`)), 'invalid_signature');
      }
    };
    const rotation = (async () => {
      await sleep(500);
      ks.setKeys([published(p256, 'old'), published(p384, 'new')]);
      rotated = true;
    })();
    await Promise.all([rotation, ...Array.from({ length: 12 }, (_, id) => client(id)), ...Array.from({ length: 6 }, (_, id) => attacker(id))]);
    const elapsed = Date.now() - started;

    expect(failures).toEqual([]);
    expect(legitNew).toBeGreaterThan(10);
    expect(legit).toBeGreaterThan(50);
    expect(forged).toBeGreaterThan(6);
    expect(ks.count(JWKS)).toBeLessThanOrEqual(Math.ceil(elapsed / cooldown) + 1);
  }, 30_000);
});

describe('remote JWK Set: stale-while-revalidate, maxStale and backoff', () => {
  it('answers at once from an aged set while the provider hangs, refreshing it once in the background', async () => {
    const ks = await keyServer();
    ks.setKeys([published(p256, 'k1')]);
    // The default 5 s timeout: a request that waited for the refresh would take that long.
    const api = await app({ jwks: { uri: ks.jwksUri, cacheMaxAge: 300 } });
    expectOk(await get(api, await token(p256, 'ES256', 'k1')));
    await ks.setMode('hang');
    await sleep(400);
    const began = Date.now();
    const tokens = await Promise.all(Array.from({ length: 10 }, () => token(p256, 'ES256', 'k1')));
    for (const seen of await Promise.all(tokens.map((t) => get(api, t)))) expectOk(seen);
    expectOk(await get(api, await token(p256, 'ES256', 'k1')));
    expect(Date.now() - began).toBeLessThan(2500);
    expect(ks.count(JWKS)).toBe(2);
  });

  it('uses a key the provider rotated in once the background refresh of an aged set is done', async () => {
    const ks = await keyServer();
    ks.setKeys([published(p256, 'k1')]);
    const api = await app({ jwks: { uri: ks.jwksUri, cacheMaxAge: 300 } });
    expectOk(await get(api, await token(p256, 'ES256', 'k1')));
    // The provider withdraws k1 and publishes k2.
    ks.setKeys([published(ed, 'k2')]);
    await sleep(400);
    // Served from the aged set while it is refreshed...
    expectOk(await get(api, await token(p256, 'ES256', 'k1')));
    // ...and k2 is found in the refreshed one.
    expectOk(await get(api, await token(ed, 'EdDSA', 'k2')));
    expect(ks.count(JWKS)).toBe(2);
    expectRejected(await get(api, await token(p256, 'ES256', 'k1')), 'invalid_signature');
  });

  it('comes back after an outage without waiting a whole cooldown (the backoff starts at an eighth)', async () => {
    const ks = await keyServer();
    ks.setKeys([published(p256, 'k1')]);
    await ks.setMode('down');
    // The default cooldown of 5 s: the first backoff is 625 ms.
    const api = await app({ jwks: { uri: ks.jwksUri } });
    expectUnavailable(await get(api, await token(p256, 'ES256', 'k1')));
    await ks.setMode('ok');
    expectUnavailable(await get(api, await token(p256, 'ES256', 'k1')));
    expect(ks.count(JWKS)).toBe(0);
    await sleep(900);
    expectOk(await get(api, await token(p256, 'ES256', 'k1')));
    expect(ks.count(JWKS)).toBe(1);
  });

  it('waits longer after each failure in a row, up to cooldownDuration', async () => {
    const ks = await keyServer();
    ks.setKeys([published(p256, 'k1')]);
    await ks.setMode('500');
    // Tries at about 0, 200, 600 and 1400 ms; without the doubling it would be every 200 ms.
    const api = await app({ jwks: { uri: ks.jwksUri, cooldownDuration: 1600 } });
    const started = Date.now();
    while (Date.now() - started < 1600) {
      expectUnavailable(await get(api, await token(p256, 'ES256', 'k1')));
      await sleep(20);
    }
    expect(ks.count(JWKS)).toBeGreaterThanOrEqual(3);
    expect(ks.count(JWKS)).toBeLessThanOrEqual(5);
  });
});

describe.each(FAILURES)('remote JWK Set when the key server fails: %s', (failure) => {
  it('answers 503 key_unavailable with Retry-After and no challenge when no key is cached', async () => {
    const ks = await keyServer();
    ks.setKeys([published(p256, 'k1')]);
    await breakServer(ks, failure);
    const api = await app({ jwks: { uri: ks.jwksUri, cooldownDuration: 1500, timeoutDuration: 300 } });
    expectUnavailable(await get(api, await token(p256, 'ES256', 'k1')));
    // A request without a token is still a plain 401: keys are only needed to verify one.
    expect((await get(api)).status).toBe(401);
    expect(unhandled).toEqual([]);
  }, 20_000);

  it('backs off after a failed fetch, then recovers once the server is back', async () => {
    const ks = await keyServer();
    ks.setKeys([published(p256, 'k1')]);
    await breakServer(ks, failure);
    // A first backoff of 1.5 s (an eighth of the cooldown).
    const api = await app({ jwks: { uri: ks.jwksUri, cooldownDuration: 12_000, timeoutDuration: 300 } });
    expectUnavailable(await get(api, await token(p256, 'ES256', 'k1')));
    const asked = ks.count(JWKS);
    expect(asked).toBe(failure === 'down' ? 0 : 1);

    // The server is healthy again, but the backoff holds: 503 at once, nobody asked.
    await ks.setMode('ok');
    ks.setKeys([published(p256, 'k1')]);
    expectUnavailable(await get(api, await token(p256, 'ES256', 'k1')));
    const burst = await Promise.all(Array.from({ length: 5 }, async () => get(api, await token(p256, 'ES256', 'k1'))));
    for (const s of burst) expectUnavailable(s);
    expect(ks.count(JWKS)).toBe(asked);

    await sleep(1800);
    expectOk(await get(api, await token(p256, 'ES256', 'k1')));
    expect(ks.count(JWKS)).toBe(asked + 1);
    expectOk(await get(api, await token(p256, 'ES256', 'k1')));
    expect(ks.count(JWKS)).toBe(asked + 1);
    expect(unhandled).toEqual([]);
  }, 20_000);

  it('keeps serving cached keys past cacheMaxAge (stale-if-error); unknown kids get 503', async () => {
    const ks = await keyServer();
    ks.setKeys([published(p256, 'k1')]);
    const api = await app({ jwks: { uri: ks.jwksUri, cacheMaxAge: 300, cooldownDuration: 2000, timeoutDuration: 300 } });
    expectOk(await get(api, await token(p256, 'ES256', 'k1')));
    expect(ks.count(JWKS)).toBe(1);

    await breakServer(ks, failure);
    await sleep(450); // the cached set is now older than cacheMaxAge
    expectOk(await get(api, await token(p256, 'ES256', 'k1')));
    // A key the cache does not hold cannot be had while the server fails.
    expectUnavailable(await get(api, await token(rsa, 'RS256', 'k-new')));
    expectOk(await get(api, await token(p256, 'ES256', 'k1')));

    // Still stale and still failing later on: still served.
    await sleep(450);
    expectOk(await get(api, await token(p256, 'ES256', 'k1')));

    // The server comes back with a rotated set: after the backoff both keys work.
    await ks.setMode('ok');
    ks.setKeys([published(p256, 'k1'), published(rsa, 'k-new')]);
    await sleep(1000);
    expectOk(await get(api, await token(rsa, 'RS256', 'k-new')));
    expectOk(await get(api, await token(p256, 'ES256', 'k1')));
    expect(unhandled).toEqual([]);
  }, 20_000);

  it('stops verifying cached keys once the last good fetch is older than maxStale, then recovers', async () => {
    const ks = await keyServer();
    ks.setKeys([published(p256, 'k1')]);
    const api = await app({ jwks: { uri: ks.jwksUri, cacheMaxAge: 200, maxStale: 800, cooldownDuration: 800, timeoutDuration: 300 } });
    expectOk(await get(api, await token(p256, 'ES256', 'k1')));

    await breakServer(ks, failure);
    await sleep(300);
    expectOk(await get(api, await token(p256, 'ES256', 'k1')));
    await sleep(700); // more than 800 ms since the last good fetch
    expectUnavailable(await get(api, await token(p256, 'ES256', 'k1')));
    expectUnavailable(await get(api, await token(p256, 'ES256', 'k1')));

    await ks.setMode('ok');
    ks.setKeys([published(p256, 'k1')]);
    await sleep(1000); // longer than the longest backoff (the cooldown)
    expectOk(await get(api, await token(p256, 'ES256', 'k1')));
    expect(unhandled).toEqual([]);
  }, 20_000);
});

describe('discovery', () => {
  const OIDC = '/tenant/.well-known/openid-configuration';
  const RFC8414 = '/.well-known/oauth-authorization-server/tenant';
  const TENANT_JWKS = '/tenant/jwks.json';

  async function tenant(): Promise<{ ks: KeyServer; issuer: string }> {
    const ks = await keyServer();
    const issuer = `${ks.url}/tenant`;
    ks.setKeys([published(p256, 'k1')], TENANT_JWKS);
    return { ks, issuer };
  }

  it('reads <issuer>/.well-known/openid-configuration once to find jwks_uri', async () => {
    const { ks, issuer } = await tenant();
    ks.setDocument(OIDC, { issuer, jwks_uri: `${ks.url}${TENANT_JWKS}`, authorization_endpoint: `${issuer}/authorize` });
    const api = await app({ issuer, discovery: true, jwks: { cooldownDuration: 300, cacheMaxAge: 300 } });
    await sleep(100);
    expect(ks.count()).toBe(0);

    const seen = await get(api, await token(p256, 'ES256', 'k1', { iss: issuer }));
    expectOk(seen);
    expect(seen.body?.auth?.payload.iss).toBe(issuer);
    expectOk(await get(api, await token(p256, 'ES256', 'k1', { iss: issuer })));
    expect(ks.count(OIDC)).toBe(1);
    expect(ks.count(TENANT_JWKS)).toBe(1);
    expect(ks.count(RFC8414)).toBe(0);

    // Rotation and cache expiry refetch the set, never the metadata.
    ks.setKeys([published(p256, 'k1'), published(ed, 'k2')], TENANT_JWKS);
    await sleep(450);
    expectOk(await get(api, await token(ed, 'EdDSA', 'k2', { iss: issuer })));
    await sleep(450);
    expectOk(await get(api, await token(p256, 'ES256', 'k1', { iss: issuer })));
    expect(ks.count(TENANT_JWKS)).toBe(3);
    expect(ks.count(OIDC)).toBe(1);
  });

  it('still checks iss against the configured issuer', async () => {
    const { ks, issuer } = await tenant();
    ks.setDocument(OIDC, { issuer, jwks_uri: `${ks.url}${TENANT_JWKS}` });
    const api = await app({ issuer, discovery: true });
    expectRejected(await get(api, await token(p256, 'ES256', 'k1', { iss: `${ks.url}/other` })), 'claim_invalid');
    expectOk(await get(api, await token(p256, 'ES256', 'k1', { iss: issuer })));
  });

  it('falls back to RFC 8414 /.well-known/oauth-authorization-server<issuer path> after a 404', async () => {
    const { ks, issuer } = await tenant();
    ks.setDocument(RFC8414, { issuer, jwks_uri: `${ks.url}${TENANT_JWKS}` });
    const api = await app({ issuer, discovery: true });
    expectOk(await get(api, await token(p256, 'ES256', 'k1', { iss: issuer })));
    expectOk(await get(api, await token(p256, 'ES256', 'k1', { iss: issuer })));
    expect(ks.count(OIDC)).toBe(1);
    expect(ks.count(RFC8414)).toBe(1);
    expect(ks.count(TENANT_JWKS)).toBe(1);
  });

  it('refuses metadata that names another issuer: 503, and its jwks_uri is never fetched', async () => {
    const { ks, issuer } = await tenant();
    ks.setDocument(OIDC, { issuer: 'https://evil.test/tenant', jwks_uri: `${ks.url}${TENANT_JWKS}` });
    ks.setDocument(RFC8414, { issuer: `${issuer}/`, jwks_uri: `${ks.url}${TENANT_JWKS}` });
    const api = await app({ issuer, discovery: true, jwks: { timeoutDuration: 300 } });
    expectUnavailable(await get(api, await token(p256, 'ES256', 'k1', { iss: issuer })));
    expect(ks.count(TENANT_JWKS)).toBe(0);
    expect(ks.count(OIDC)).toBe(1);
  });

  it('answers 503 when the metadata names no jwks_uri', async () => {
    const { ks, issuer } = await tenant();
    ks.setDocument(OIDC, { issuer });
    const api = await app({ issuer, discovery: true, jwks: { timeoutDuration: 300 } });
    expectUnavailable(await get(api, await token(p256, 'ES256', 'k1', { iss: issuer })));
  });

  it.each(['down', 'hang', '500', 'invalid-json'] as const)(
    'answers 503 when the discovery server fails (%s), backs off, then recovers',
    async (mode) => {
      const { ks, issuer } = await tenant();
      ks.setDocument(OIDC, { issuer, jwks_uri: `${ks.url}${TENANT_JWKS}` });
      await ks.setMode(mode);
      // A first backoff of 1.5 s (an eighth of the cooldown).
      const api = await app({ issuer, discovery: true, jwks: { cooldownDuration: 12_000, timeoutDuration: 300 } });
      expectUnavailable(await get(api, await token(p256, 'ES256', 'k1', { iss: issuer })));
      const asked = ks.count();

      await ks.setMode('ok');
      expectUnavailable(await get(api, await token(p256, 'ES256', 'k1', { iss: issuer })));
      expect(ks.count()).toBe(asked);

      await sleep(1800);
      expectOk(await get(api, await token(p256, 'ES256', 'k1', { iss: issuer })));
      expect(ks.count(TENANT_JWKS)).toBe(1);
      expect(unhandled).toEqual([]);
    },
    20_000,
  );

  it('answers 503 when the discovered JWK Set fails, like a configured one', async () => {
    const { ks, issuer } = await tenant();
    ks.setDocument(OIDC, { issuer, jwks_uri: `${ks.url}${TENANT_JWKS}` });
    await ks.setMode('500', TENANT_JWKS);
    const api = await app({ issuer, discovery: true, jwks: { timeoutDuration: 300 } });
    expectUnavailable(await get(api, await token(p256, 'ES256', 'k1', { iss: issuer })));
    expect(ks.count(OIDC)).toBe(1);
    expect(ks.count(TENANT_JWKS)).toBe(1);
  });
});

describe('several issuers', () => {
  const A_JWKS = '/a/jwks.json';
  const B_OIDC = '/b/.well-known/openid-configuration';
  const B_JWKS = '/b/jwks.json';
  const HS_ISSUER = 'https://hs.test';

  async function tenants() {
    const ks = await keyServer();
    const a = `${ks.url}/a`;
    const b = `${ks.url}/b`;
    // Both sets publish a key under the same kid: only the issuer tells them apart.
    ks.setKeys([published(rsa, 'shared'), published(p256, 'a-ec')], A_JWKS);
    ks.setKeys([published(rsaOther, 'shared'), published(ed, 'b-ed')], B_JWKS);
    ks.setDocument(B_OIDC, { issuer: b, jwks_uri: `${ks.url}${B_JWKS}` });
    const api = await app({
      issuers: {
        [a]: { jwks: { uri: `${ks.url}${A_JWKS}` } },
        [b]: { discovery: true },
        [HS_ISSUER]: { secret: HS_SECRET },
      },
    });
    return { ks, a, b, api };
  }

  it('verifies each iss with its own key source, fetching only that one', async () => {
    const { ks, a, b, api } = await tenants();
    expectOk(await get(api, await token(rsa, 'RS256', 'shared', { iss: a })));
    expect(ks.count(A_JWKS)).toBe(1);
    expect(ks.count(B_OIDC)).toBe(0);
    expect(ks.count(B_JWKS)).toBe(0);

    expectOk(await get(api, await token(rsaOther, 'RS256', 'shared', { iss: b })));
    expectOk(await get(api, await token(ed, 'EdDSA', 'b-ed', { iss: b })));
    expect(ks.count(B_OIDC)).toBe(1);
    expect(ks.count(B_JWKS)).toBe(1);

    expectOk(await get(api, await sign({ iss: HS_ISSUER })));
    expectOk(await get(api, await token(p256, 'ES256', 'a-ec', { iss: a })));
    expect(ks.count(A_JWKS)).toBe(1);
  });

  it('answers 401 claim_invalid for an iss that is not listed, without contacting any key server', async () => {
    const { ks, api } = await tenants();
    expectRejected(await get(api, await token(rsa, 'RS256', 'shared', { iss: 'https://evil.test' })), 'claim_invalid');
    expectRejected(await get(api, await token(rsa, 'RS256', 'shared', { iss: `${ks.url}/c` })), 'claim_invalid');
    expectRejected(await get(api, await sign({ iss: 'https://evil.test' })), 'claim_invalid');
    expectRejected(await get(api, await token(rsa, 'RS256', 'shared')), 'claim_invalid'); // no iss at all
    expect(ks.count()).toBe(0);
  });

  it('refuses a token signed with one issuer’s key that claims another issuer', async () => {
    const { ks, a, b, api } = await tenants();
    expectRejected(await get(api, await token(rsa, 'RS256', 'shared', { iss: b })), 'invalid_signature', 'claim_invalid');
    expectRejected(await get(api, await token(rsaOther, 'RS256', 'shared', { iss: a })), 'invalid_signature', 'claim_invalid');
    expectRejected(await get(api, await token(ed, 'EdDSA', 'b-ed', { iss: a })), 'invalid_signature', 'claim_invalid');
    // Across key kinds the algorithm itself is out of that issuer's allowlist.
    expectRejected(await get(api, await token(rsa, 'RS256', 'shared', { iss: HS_ISSUER })), 'invalid_signature', 'claim_invalid', 'algorithm_not_allowed');
    expectRejected(await get(api, await sign({ iss: a })), 'invalid_signature', 'claim_invalid', 'algorithm_not_allowed');
    // The genuine tokens still pass.
    expectOk(await get(api, await token(rsa, 'RS256', 'shared', { iss: a })));
    expectOk(await get(api, await token(rsaOther, 'RS256', 'shared', { iss: b })));
    // Issuer a's set was fetched once more, for the kid b-ed it does not publish.
    expect(ks.count(A_JWKS)).toBe(2);
  });

  it('answers 503 for an issuer whose key server is down, while the others keep working', async () => {
    const ks = await keyServer();
    const a = `${ks.url}/a`;
    ks.setKeys([published(rsa, 'a1')], A_JWKS);
    const down = await startKeyServer();
    const deadIssuer = `${down.url}/dead`;
    await down.close();
    const api = await app({
      issuers: {
        [a]: { jwks: { uri: `${ks.url}${A_JWKS}` } },
        [deadIssuer]: { discovery: true, jwks: { timeoutDuration: 300 } },
        [HS_ISSUER]: { secret: HS_SECRET },
      },
    });
    expectUnavailable(await get(api, await token(rsa, 'RS256', 'a1', { iss: deadIssuer })));
    expectOk(await get(api, await token(rsa, 'RS256', 'a1', { iss: a })));
    expectOk(await get(api, await sign({ iss: HS_ISSUER })));
  }, 20_000);
});

describe('algorithms and key selection in a remote set', () => {
  let ks: KeyServer;
  let api: RunningServer;
  beforeAll(async () => {
    ks = await startKeyServer();
    ks.setKeys([
      published(rsa, 'rsa'),
      published(p256, 'p256'),
      published(p384, 'p384'),
      published(p521, 'p521'),
      published(ed, 'ed'),
      published(rsaOther, 'rs256-only', { alg: 'RS256' }),
      published(rsaEnc, 'enc', { use: 'enc' }),
      published(rsaOpsEncrypt, 'ops-encrypt', { key_ops: ['encrypt'] }),
      published(rsaOpsVerify, 'ops-verify', { key_ops: ['verify'], use: 'sig' }),
    ]);
    api = await expressHarness.start({ jwks: { uri: ks.jwksUri } });
  });
  afterAll(async () => {
    await api?.close();
    await ks?.close();
  });

  const cases: [alg: string, key: () => Pair, kid: string][] = [
    ['RS256', () => rsa, 'rsa'],
    ['RS384', () => rsa, 'rsa'],
    ['RS512', () => rsa, 'rsa'],
    ['PS256', () => rsa, 'rsa'],
    ['PS384', () => rsa, 'rsa'],
    ['PS512', () => rsa, 'rsa'],
    ['ES256', () => p256, 'p256'],
    ['ES384', () => p384, 'p384'],
    ['ES512', () => p521, 'p521'],
    ['EdDSA', () => ed, 'ed'],
  ];
  it.each(cases)('verifies %s', async (alg, key, kid) => {
    const seen = await get(api, await token(key(), alg, kid));
    expectOk(seen);
  });

  it('a JWK with alg verifies only that algorithm', async () => {
    expectOk(await get(api, await token(rsaOther, 'RS256', 'rs256-only')));
    expectRejected(await get(api, await token(rsaOther, 'RS512', 'rs256-only')), 'invalid_signature', 'algorithm_not_allowed');
    expectRejected(await get(api, await token(rsaOther, 'PS256', 'rs256-only')), 'invalid_signature', 'algorithm_not_allowed');
  });

  it('a JWK’s kty and crv narrow what it verifies', async () => {
    // An EC token naming an RSA key, and an ES384 token naming the P-256 key.
    expectRejected(await get(api, await token(p256, 'ES256', 'rsa')), 'invalid_signature', 'algorithm_not_allowed');
    expectRejected(await get(api, await token(p384, 'ES384', 'p256')), 'invalid_signature', 'algorithm_not_allowed');
    expectRejected(await get(api, await token(p521, 'ES512', 'p384')), 'invalid_signature', 'algorithm_not_allowed');
    expectRejected(await get(api, await token(rsa, 'RS256', 'ed')), 'invalid_signature', 'algorithm_not_allowed');
  });

  it('never uses a use:"enc" key', async () => {
    expectRejected(await get(api, await token(rsaEnc, 'RS256', 'enc')), 'invalid_signature');
    expectRejected(await get(api, await token(rsaEnc, 'PS256', 'enc')), 'invalid_signature');
    expectRejected(await get(api, await token(rsaEnc, 'RS256', null)), 'invalid_signature');
  });

  it('never uses a key whose key_ops lack "verify"', async () => {
    expectRejected(await get(api, await token(rsaOpsEncrypt, 'RS256', 'ops-encrypt')), 'invalid_signature');
    expectRejected(await get(api, await token(rsaOpsEncrypt, 'RS256', null)), 'invalid_signature');
    expectOk(await get(api, await token(rsaOpsVerify, 'RS256', 'ops-verify')));
  });

  it('tries the candidates for a token without kid', async () => {
    expectOk(await get(api, await token(rsa, 'RS256', null)));
    expectOk(await get(api, await token(rsaOpsVerify, 'PS384', null)));
    expectOk(await get(api, await token(p384, 'ES384', null)));
  });

  it('fetched the set once for all of the above', () => {
    expect(ks.count(JWKS)).toBe(1);
  });
});

describe('events of a remote JWK Set (onEvent)', () => {
  function recorder() {
    const events: AuthEvent[] = [];
    return { events, onEvent: (event: AuthEvent) => void events.push(event) };
  }
  const ofType = <T extends AuthEvent['type']>(events: AuthEvent[], type: T) =>
    events.filter((event): event is Extract<AuthEvent, { type: T }> => event.type === type);
  /** Background refreshes report after the answer: wait (bounded) for what a test expects. */
  async function until(check: () => boolean): Promise<void> {
    for (let i = 0; i < 100 && !check(); i++) await sleep(20);
  }

  it('reports each fetch with its outcome, duration and kids, and a rotation, never key material', async () => {
    const ks = await keyServer();
    ks.setKeys([published(p256, 'k1'), published(rsaEnc, 'enc', { use: 'enc' })]);
    const { events, onEvent } = recorder();
    const api = await app({ jwks: { uri: ks.jwksUri }, onEvent });
    expectOk(await get(api, await token(p256, 'ES256', 'k1')));
    expect(ofType(events, 'jwks.fetch')).toEqual([
      { type: 'jwks.fetch', kind: 'jwks', uri: ks.jwksUri, outcome: 'ok', durationMs: expect.any(Number), kids: ['k1'] },
    ]);
    expect(ofType(events, 'jwks.rotated')).toEqual([]);

    ks.setKeys([published(ed, 'k2')]);
    expectOk(await get(api, await token(ed, 'EdDSA', 'k2')));
    expect(ofType(events, 'jwks.fetch').map((event) => event.kids)).toEqual([['k1'], ['k2']]);
    expect(ofType(events, 'jwks.rotated')).toEqual([{ type: 'jwks.rotated', uri: ks.jwksUri, added: ['k2'], removed: ['k1'] }]);

    const logged = JSON.stringify(events);
    for (const jwk of [p256.jwk, ed.jwk, rsaEnc.jwk]) {
      for (const member of ['x', 'y', 'n'] as const) if (typeof jwk[member] === 'string') expect(logged).not.toContain(jwk[member]);
    }
  });

  const causes: [Failure | 'not-a-set' | 'too-large', string, number | undefined][] = [
    ['down', 'connection_refused', undefined],
    ['hang', 'timeout', undefined],
    ['500', 'http_status', 500],
    ['invalid-json', 'invalid_json', undefined],
    ['empty', 'no_usable_key', undefined],
    ['unusable-keys', 'no_usable_key', undefined],
    ['not-a-set', 'not_a_jwk_set', undefined],
    ['too-large', 'too_large', undefined],
  ];
  it.each(causes)(
    'reports a failed fetch (%s) with its cause %s, and answers 503',
    async (mode, cause, status) => {
      const ks = await keyServer();
      if (mode === 'not-a-set') ks.setDocument(JWKS, { issuer: 'https://idp.example' });
      else if (mode === 'too-large') ks.setDocument(JWKS, { keys: [published(p256, 'k1')], padding: 'x'.repeat(600 * 1024) });
      else await breakServer(ks, mode);
      const { events, onEvent } = recorder();
      const api = await app({ jwks: { uri: ks.jwksUri, timeoutDuration: 300 }, onEvent });
      expectUnavailable(await get(api, await token(p256, 'ES256', 'k1')));
      const [fetched, ...more] = ofType(events, 'jwks.fetch');
      expect(more).toEqual([]);
      expect(fetched).toMatchObject({ type: 'jwks.fetch', kind: 'jwks', uri: ks.jwksUri, outcome: 'failed', cause, durationMs: expect.any(Number) });
      expect(fetched?.status).toBe(status);
      expect(fetched?.reason).toContain(ks.jwksUri);
      expect(fetched?.error).toBeInstanceOf(Error);
      expect((fetched?.error as Error).name).toBe('KeysUnavailable');
      // The refusal itself is reported too, with the same reason.
      expect(ofType(events, 'auth.failed')).toEqual([
        { type: 'auth.failed', code: 'key_unavailable', status: 503, reason: fetched?.reason, alg: 'ES256', kid: 'k1' },
      ]);
    },
    20_000,
  );

  it('reports serving past cacheMaxAge after a failed refresh (jwks.stale), expired once past maxStale', async () => {
    const ks = await keyServer();
    ks.setKeys([published(p256, 'k1')]);
    const { events, onEvent } = recorder();
    const api = await app({ jwks: { uri: ks.jwksUri, cacheMaxAge: 200, maxStale: 700, cooldownDuration: 400, timeoutDuration: 300 }, onEvent });
    expectOk(await get(api, await token(p256, 'ES256', 'k1')));
    await ks.setMode('500');
    await sleep(300);
    expectOk(await get(api, await token(p256, 'ES256', 'k1')));
    await until(() => ofType(events, 'jwks.stale').length > 0);
    expect(ofType(events, 'jwks.stale')).toEqual([{ type: 'jwks.stale', uri: ks.jwksUri, ageMs: expect.any(Number), expired: false }]);
    expect(ofType(events, 'jwks.stale')[0]!.ageMs).toBeGreaterThan(200);

    await sleep(600);
    expectUnavailable(await get(api, await token(p256, 'ES256', 'k1')));
    const stale = ofType(events, 'jwks.stale');
    expect(stale.at(-1)).toEqual({ type: 'jwks.stale', uri: ks.jwksUri, ageMs: expect.any(Number), expired: true });
    expect(stale.at(-1)!.ageMs).toBeGreaterThan(700);
  });

  it('reports the metadata fetches of discovery, a 404 included, then the key set fetch', async () => {
    const ks = await keyServer();
    const issuer = `${ks.url}/tenant`;
    ks.setKeys([published(p256, 'k1')], '/tenant/jwks.json');
    ks.setDocument('/.well-known/oauth-authorization-server/tenant', { issuer, jwks_uri: `${ks.url}/tenant/jwks.json` });
    const { events, onEvent } = recorder();
    const api = await app({ issuer, discovery: true, onEvent });
    expectOk(await get(api, await token(p256, 'ES256', 'k1', { iss: issuer })));
    expect(ofType(events, 'jwks.fetch').map(({ kind, uri, outcome, cause, status, kids }) => ({ kind, uri, outcome, cause, status, kids }))).toEqual([
      { kind: 'metadata', uri: `${issuer}/.well-known/openid-configuration`, outcome: 'failed', cause: 'http_status', status: 404, kids: undefined },
      { kind: 'metadata', uri: `${ks.url}/.well-known/oauth-authorization-server/tenant`, outcome: 'ok', cause: undefined, status: undefined, kids: undefined },
      { kind: 'jwks', uri: `${ks.url}/tenant/jwks.json`, outcome: 'ok', cause: undefined, status: undefined, kids: ['k1'] },
    ]);
  });

  it('reports metadata naming another issuer as invalid_metadata', async () => {
    const ks = await keyServer();
    const issuer = `${ks.url}/tenant`;
    ks.setDocument('/tenant/.well-known/openid-configuration', { issuer: 'https://evil.test', jwks_uri: `${ks.url}/tenant/jwks.json` });
    const { events, onEvent } = recorder();
    const api = await app({ issuer, discovery: true, onEvent });
    expectUnavailable(await get(api, await token(p256, 'ES256', 'k1', { iss: issuer })));
    expect(ofType(events, 'jwks.fetch')).toMatchObject([{ kind: 'metadata', outcome: 'failed', cause: 'invalid_metadata' }]);
  });

  it('answers the same when onEvent throws or rejects', async () => {
    const ks = await keyServer();
    ks.setKeys([published(p256, 'k1')]);
    const jwks = { uri: ks.jwksUri, cooldownDuration: 100 };
    const throwing = await app({
      jwks,
      onEvent: () => {
        throw new Error('logger down');
      },
    });
    const rejecting = await app({ jwks, onEvent: () => Promise.reject(new Error('logger down')) as unknown as void });
    for (const api of [throwing, rejecting]) {
      expectOk(await get(api, await token(p256, 'ES256', 'k1')));
      ks.setKeys([published(p256, 'k1'), published(ed, 'k2')]);
      expectOk(await get(api, await token(ed, 'EdDSA', 'k2')));
      expectRejected(await get(api, await token(ed, 'EdDSA', 'k3')), 'invalid_signature');
    }
    await ks.setMode('down');
    const down = await app({
      jwks: { uri: ks.jwksUri },
      onEvent: () => {
        throw new Error('logger down');
      },
    });
    expectUnavailable(await get(down, await token(p256, 'ES256', 'k1')));
    await sleep(50);
    expect(unhandled).toEqual([]);
  });
});

describe('the cause of key_unavailable', () => {
  const request = async (bearer: string) => new Request('http://127.0.0.1/', { headers: { authorization: `Bearer ${bearer}` } });
  type Unavailable = Error & { failure?: string; status?: number };

  async function causeOf(authenticator: ReturnType<typeof createAuthenticator>, bearer: string): Promise<Unavailable> {
    const result = await authenticator.authenticate(await request(bearer), null);
    if (result.ok) throw new Error('expected a failure');
    expect(result.error.code).toBe('key_unavailable');
    // The client never sees it.
    expect(JSON.stringify(result.error)).not.toContain('127.0.0.1');
    return result.error.cause as Unavailable;
  }

  it('is a KeysUnavailable that says what failed, with the rejected fetch as its own cause', async () => {
    const ks = await keyServer();
    await ks.setMode('down');
    const authenticator = createAuthenticator({ jwks: { uri: ks.jwksUri, cooldownDuration: 60_000 }, cache: false });
    const first = await causeOf(authenticator, await token(p256, 'ES256', 'k1'));
    expect(first.name).toBe('KeysUnavailable');
    expect(first.message).toBe(`the JWK Set ${ks.jwksUri} refused the connection (ECONNREFUSED)`);
    expect(first.failure).toBe('connection_refused');
    expect(first.cause).toBeInstanceOf(TypeError);

    // During the backoff: says so, and carries the failure that started it.
    const second = await causeOf(authenticator, await token(p256, 'ES256', 'k1'));
    expect(second.message).toMatch(new RegExp(`^the JWK Set ${ks.jwksUri} refused the connection \\(ECONNREFUSED\\); next try in \\d+(\\.\\d)? s$`));
    expect(second.cause).toBe(first);
  });

  it('names the HTTP status the server answered', async () => {
    const ks = await keyServer();
    await ks.setMode('500');
    const authenticator = createAuthenticator({ jwks: { uri: ks.jwksUri }, cache: false });
    const cause = await causeOf(authenticator, await token(p256, 'ES256', 'k1'));
    expect(cause.message).toBe(`the JWK Set ${ks.jwksUri} answered HTTP 500`);
    expect(cause.status).toBe(500);
  });

  it('says how old the keys are once they are past maxStale', async () => {
    const ks = await keyServer();
    ks.setKeys([published(p256, 'k1')]);
    const authenticator = createAuthenticator({ jwks: { uri: ks.jwksUri, cacheMaxAge: 100, maxStale: 300, cooldownDuration: 0 }, cache: false });
    expect((await authenticator.authenticate(await request(await token(p256, 'ES256', 'k1')), null)).ok).toBe(true);
    await ks.setMode('500');
    await sleep(400);
    const cause = await causeOf(authenticator, await token(p256, 'ES256', 'k1'));
    expect(cause.message).toMatch(
      new RegExp(
        `^the keys of ${ks.jwksUri} were last fetched 0\\.\\d s ago, more than maxStale \\(0\\.3 s\\), and cannot be refreshed: the JWK Set ${ks.jwksUri} answered HTTP 500$`,
      ),
    );
    expect((cause.cause as Unavailable).status).toBe(500);
  });
});

describe('issuer URLs for discovery are checked when jwtAuth is created', () => {
  const bad: [string, string][] = [
    ['a user name and password', 'https://user:secret@idp.example'],
    ['a query', 'https://idp.example/realms/acme?tenant=a'],
    ['an empty query', 'https://idp.example/?'],
    ['a fragment', 'https://idp.example/#x'],
  ];
  describe.each(harnesses)('$name', (harness) => {
    it.each(bad)('refuses an issuer with %s, as issuer and as a key of issuers', async (_, issuer) => {
      await expect(harness.start({ issuer, discovery: true })).rejects.toThrow(TypeError);
      await expect(harness.start({ issuers: { [issuer]: { discovery: true } } })).rejects.toThrow(TypeError);
    });
  });
});

describe('unhandled rejections', () => {
  it('none were seen', async () => {
    // Let aborted fetches and timers of the tests above settle.
    await sleep(500);
    expect(unhandled).toEqual([]);
  });
});
