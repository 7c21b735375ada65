import { jwtAuth } from '@jwtauth/express';
import express, { type ErrorRequestHandler } from 'express';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HS_SECRET, now } from './fixtures.js';
import { listen } from './harness/listen.js';
import type { RunningServer } from './harness/types.js';

// DPoP (RFC 9449) side by side with express-oauth2-jwt-bearer 1.10, the one peer that offers it:
// the same requests to both, on Express 5. Where RFC 9449 leaves no choice the two must agree on
// whether a request passes; the cases where we refuse what it lets through are listed apart, each
// with the RFC's reason.

// Loaded without its types: they declare `Express.Request.auth` globally, which would change
// `req.auth` for every program that compiles the tests (side-by-side-express.test.ts compiles
// that combination on purpose, in a project of its own).
const { auth } = createRequire(import.meta.url)('express-oauth2-jwt-bearer') as { auth: (options: Record<string, unknown>) => express.RequestHandler };

const ISSUER = 'https://auth.example/';
const AUDIENCE = 'https://api.example';

let ours: RunningServer;
let peer: RunningServer;
let key: { privateKey: CryptoKey; jwk: JWK; jkt: string };
let otherKey: { privateKey: CryptoKey; jwk: JWK; jkt: string };

async function proofKey() {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk = await exportJWK(publicKey);
  return { privateKey, jwk, jkt: await calculateJwkThumbprint(jwk) };
}

function app(middleware: express.RequestHandler): Promise<RunningServer> {
  const application = express();
  application.set('trust proxy', 'loopback');
  application.use(middleware);
  application.get('/orders', (_req, res) => void res.json({ ok: true }));
  const errors: ErrorRequestHandler = (error: { status?: number }, _req, res, _next) => void res.status(error.status ?? 500).json({ failed: true });
  application.use(errors);
  return listen(createServer(application));
}

beforeAll(async () => {
  key = await proofKey();
  otherKey = await proofKey();
  ours = await app(jwtAuth({ secret: HS_SECRET, issuer: ISSUER, audience: AUDIENCE, dpop: { mode: 'allowed' } }));
  peer = await app(auth({ secret: HS_SECRET, tokenSigningAlg: 'HS256', issuer: ISSUER, audience: AUDIENCE, dpop: { enabled: true } }));
});
afterAll(async () => {
  await ours?.close();
  await peer?.close();
});

const token = (claims: Record<string, unknown> = {}) =>
  new SignJWT({ sub: 'alice', iss: ISSUER, aud: AUDIENCE, iat: now(), exp: now() + 300, ...claims })
    .setProtectedHeader({ alg: 'HS256' })
    .sign(new TextEncoder().encode(HS_SECRET));
const bound = () => token({ cnf: { jkt: key.jkt } });

interface Proof {
  htm?: string;
  path?: string;
  /** Seconds from now. */
  age?: number;
  ath?: string | null;
  /** Sign with the key the token is not bound to. */
  byOtherKey?: boolean;
  typ?: string;
}
async function proof(accessToken: string, origin: string, options: Proof = {}): Promise<string> {
  const by = options.byOtherKey === true ? otherKey : key;
  const ath =
    options.ath === undefined ? Buffer.from(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(accessToken))).toString('base64url') : options.ath;
  const claims = {
    jti: crypto.randomUUID(),
    htm: options.htm ?? 'GET',
    htu: `${origin}${options.path ?? '/orders'}`,
    iat: now() - (options.age ?? 0),
    ...(ath === null ? {} : { ath }),
  };
  return new SignJWT(claims).setProtectedHeader({ alg: 'ES256', typ: options.typ ?? 'dpop+jwt', jwk: by.jwk }).sign(by.privateKey);
}

type Request = (server: RunningServer) => Promise<{ scheme: string; token: string; dpop?: string }>;
const dpop =
  (makeToken: () => Promise<string>, options: Proof = {}): Request =>
  async (server) => {
    const accessToken = await makeToken();
    return { scheme: 'DPoP', token: accessToken, dpop: await proof(accessToken, server.url, options) };
  };

async function send(server: RunningServer, request: Request): Promise<number> {
  const { scheme, token: accessToken, dpop: proofValue } = await request(server);
  const response = await fetch(`${server.url}/orders`, {
    headers: { Authorization: `${scheme} ${accessToken}`, ...(proofValue === undefined ? {} : { DPoP: proofValue }) },
  });
  return response.status;
}

const AGREED: Array<[string, Request, number]> = [
  ['a bound token with a good proof', dpop(bound), 200],
  ['an unbound Bearer token', async () => ({ scheme: 'Bearer', token: await token() }), 200],
  ['a bound token sent as Bearer', async () => ({ scheme: 'Bearer', token: await bound() }), 401],
  ['DPoP without a proof', async () => ({ scheme: 'DPoP', token: await bound() }), 400],
  ['a proof for another method', dpop(bound, { htm: 'POST' }), 401],
  ['a proof for another path', dpop(bound, { path: '/other' }), 401],
  ['a proof without ath', dpop(bound, { ath: null }), 401],
  ['a proof whose ath is of another token', dpop(bound, { ath: 'fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo' }), 401],
  ['a proof by another key than the token is bound to', dpop(bound, { byOtherKey: true }), 401],
  ['a proof with typ JWT', dpop(bound, { typ: 'JWT' }), 401],
];

describe('DPoP: @jwtauth/express and express-oauth2-jwt-bearer agree', () => {
  it.each(AGREED)('%s', async (_what, request, _expected) => {
    const [ourStatus, peerStatus] = [await send(ours, request), await send(peer, request)];
    // Both pass, or both refuse (the status of a refusal may differ: 400 or 401).
    expect(ourStatus === 200, `ours ${ourStatus}, peer ${peerStatus}`).toBe(peerStatus === 200);
  });

  it.each(AGREED)('ours answers %s with the status RFC 9449 asks for', async (_what, request, expected) => {
    const status = await send(ours, request);
    expect(status === 400 || status === 401 ? 401 : status).toBe(expected === 400 ? 401 : expected);
  });
});

describe('DPoP: where @jwtauth/express refuses what express-oauth2-jwt-bearer lets through', () => {
  it('a proof sent a second time (RFC 9449 §11.1: the jti must be accepted once)', async () => {
    const statuses = async (server: RunningServer) => {
      const accessToken = await bound();
      const replayed = await proof(accessToken, server.url);
      const once: Request = async () => ({ scheme: 'DPoP', token: accessToken, dpop: replayed });
      return [await send(server, once), await send(server, once)];
    };
    expect(await statuses(ours)).toEqual([200, 401]);
    expect(await statuses(peer)).toEqual([200, 200]);
  });

  it('a proof made two minutes ago (RFC 9449 §11.1: a short window; ours is 60 s, its default 300 s)', async () => {
    const stale = dpop(bound, { age: 120 });
    expect(await send(ours, stale)).toBe(401);
    expect(await send(peer, stale)).toBe(200);
  });
});
