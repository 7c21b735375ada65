/**
 * Type tests of issue 9's key options: in every adapter, a `secret` function and an `issuers`
 * function receive that framework's request type, and `secret` takes several keys.
 */
import { createAuthenticator, type IssuerKeys, type JWSHeaderParameters, type KeyFunction } from '@jwtauth/core';
import { jwtAuth as expressJwtAuth } from '@jwtauth/express';
import { jwtAuth as fastifyJwtAuth, type FastifyJwtAuthOptions } from '@jwtauth/fastify';
import { jwtAuth as honoJwtAuth } from '@jwtauth/hono';
import { jwtAuth as koaJwtAuth } from '@jwtauth/koa';
import type { Request as ExpressRequest } from 'express';
import Fastify, { type FastifyRequest } from 'fastify';
import type { Context as HonoContext } from 'hono';
import type { Context as KoaContext } from 'koa';
import { expectTypeOf, test } from 'vitest';

const SECRET = 'a-secret-long-enough-for-hs256-in-type-tests';

test('a secret function gets the header, the token and the framework request', () => {
  expressJwtAuth({
    secret: (header, token, req) => {
      expectTypeOf(header).toEqualTypeOf<JWSHeaderParameters>();
      expectTypeOf(token).toEqualTypeOf<string>();
      expectTypeOf(req).toEqualTypeOf<ExpressRequest>();
      return req.get('host') === 'a.example' ? SECRET : undefined;
    },
  });
  koaJwtAuth({ secret: (_header, _token, ctx) => (expectTypeOf(ctx).toEqualTypeOf<KoaContext>(), ctx.host === 'a.example' ? [SECRET] : null) });
  honoJwtAuth({
    secret: async (_header, _token, c) => (expectTypeOf(c).toEqualTypeOf<HonoContext>(), c.req.header('host') === 'a.example' ? SECRET : undefined),
  });
  void Fastify().register(fastifyJwtAuth, {
    secret: (_header, _token, request) => (expectTypeOf(request).toEqualTypeOf<FastifyRequest>(), request.headers.host === 'a.example' ? SECRET : undefined),
  });
  const typed: KeyFunction<FastifyRequest> = (_header, _token, request) => request.hostname;
  const options: FastifyJwtAuthOptions = { secret: typed };
  void options;
});

test('a key function written before the request was passed still fits', () => {
  expressJwtAuth({ secret: async (header) => (header.kid === 'k1' ? SECRET : undefined) });
  koaJwtAuth({ secret: () => SECRET });
});

test("an issuers function gets the iss and the framework request, and returns an issuer's keys or undefined", () => {
  expressJwtAuth({
    issuers: (iss, req) => {
      expectTypeOf(iss).toEqualTypeOf<string>();
      expectTypeOf(req).toEqualTypeOf<ExpressRequest>();
      return req.get('host') === 'a.example' ? { jwks: { uri: `${iss}/.well-known/jwks.json` } } : undefined;
    },
  });
  koaJwtAuth({ issuers: async (_iss, ctx) => (expectTypeOf(ctx).toEqualTypeOf<KoaContext>(), { secret: SECRET }) });
  honoJwtAuth({ issuers: (_iss, c) => (expectTypeOf(c).toEqualTypeOf<HonoContext>(), null) });
  // @ts-expect-error -- an issuer's keys, not a bare key
  expressJwtAuth({ issuers: () => SECRET });
});

test('secret takes several keys, and a function may return several', () => {
  createAuthenticator({ secret: [SECRET, new TextEncoder().encode(SECRET)] });
  createAuthenticator({ secret: [{ kty: 'RSA', n: 'n', e: 'AQAB', kid: 'a' }, '-----BEGIN PUBLIC KEY-----'] });
  createAuthenticator({ secret: async () => [SECRET, SECRET] as const });
  const entry: IssuerKeys = { secret: [SECRET] };
  createAuthenticator({ issuers: { 'https://a.example': entry } });
  // @ts-expect-error -- not a key
  createAuthenticator({ secret: [42] });
});
