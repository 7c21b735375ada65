import type { CaseHelpers } from './cases-keys.js';
import type { Expect, Scenario, Send } from './cases.js';
import { HS_SECRET, now, sign } from './fixtures.js';

const FORM = 'application/x-www-form-urlencoded';

/** A POST of a form body, as a browser form or an OAuth client sends it (RFC 6750 §2.2). */
const form = (body: string, extra: Record<string, string> = {}): Send => ({ method: 'POST', headers: { 'Content-Type': FORM, ...extra }, body });

/** The token a request of this file carries, wherever it was put. */
function tokenIn(sent: Send): string {
  const custom = sent.headers?.['X-Access-Token'];
  if (typeof custom === 'string') return custom.replace(/^bearer +/i, '');
  const cookie = sent.signedCookies?.[0];
  if (cookie !== undefined) return cookie.value;
  if (sent.body !== undefined) return new URLSearchParams(sent.body).get('access_token') ?? '';
  return new URL(sent.path ?? '/', 'http://127.0.0.1').searchParams.get('access_token') ?? '';
}

/**
 * Issue 9's token sources, on every adapter: a custom header name (hono/jwt `headerName`), a
 * cookie signed the framework's own way (cookie-parser, Koa keys, @fastify/cookie, hono/cookie),
 * and the RFC 6750 §2.2 form-body parameter (express.urlencoded, @koa/bodyparser,
 * @fastify/formbody, Hono's parseBody). Every harness mounts those parsers before jwtAuth.
 */
export function sourceScenarios({ bearer, attached, failure }: CaseHelpers): Scenario[] {
  const echoed = (sent: Send): Expect => attached()(bearer(tokenIn(sent)));
  const expired = () => sign({ iat: now() - 600, exp: now() - 60 });
  return [
    {
      name: 'a custom token header (tokenFrom.header: "X-Access-Token")',
      options: () => ({ secret: HS_SECRET, tokenFrom: { header: 'X-Access-Token' } }),
      cases: [
        {
          name: 'reads "Bearer <token>", as hono/jwt headerName expects it',
          send: async () => ({ headers: { 'X-Access-Token': `Bearer ${await sign({})}` } }),
          expect: echoed,
        },
        { name: 'reads a bare token, as gateways send it', send: async () => ({ headers: { 'X-Access-Token': await sign({}) } }), expect: echoed },
        { name: 'does not read the Authorization header instead', send: async () => bearer(await sign({})), expect: failure('missing_token') },
        {
          name: 'answers 400 multiple_tokens for the header sent twice',
          send: async () => ({ headers: { 'X-Access-Token': [await sign({}), await sign({})] } }),
          expect: failure('multiple_tokens'),
        },
        {
          name: 'answers 401 malformed_token for a value that is no token',
          send: async () => ({ headers: { 'X-Access-Token': 'Basic dXNlcjpwYXNz' } }),
          expect: failure('malformed_token'),
        },
        { name: 'verifies the token it reads', send: async () => ({ headers: { 'X-Access-Token': await expired() } }), expect: failure('token_expired') },
        { name: 'answers 401 missing_token without it', send: async () => ({}), expect: failure('missing_token') },
      ],
    },
    {
      name: 'a signed token cookie (tokenFrom.cookie: { name, signed: true })',
      options: () => ({ secret: HS_SECRET, tokenFrom: { header: true, cookie: { name: 'at', signed: true } } }),
      cases: [
        {
          name: "reads a cookie signed with the app's secret",
          send: async () => ({ headers: { Cookie: 'theme=dark' }, signedCookies: [{ name: 'at', value: await sign({}) }] }),
          expect: echoed,
        },
        {
          name: 'answers 401 malformed_token for the cookie unsigned',
          send: async () => ({ headers: { Cookie: `at=${await sign({})}` } }),
          expect: failure('malformed_token'),
        },
        {
          name: 'answers 401 malformed_token for a cookie signed with another secret',
          send: async () => ({ signedCookies: [{ name: 'at', value: await sign({}), secret: 'another-cookie-secret' }] }),
          expect: failure('malformed_token'),
        },
        {
          name: 'answers 401 malformed_token for another valid token under the signature',
          send: async () => ({ signedCookies: [{ name: 'at', value: await sign({}), swap: await sign({ sub: 'admin' }) }] }),
          expect: failure('malformed_token'),
        },
        {
          name: 'verifies the token a valid signature carries',
          send: async () => ({ signedCookies: [{ name: 'at', value: await expired() }] }),
          expect: failure('token_expired'),
        },
        {
          name: 'answers 401 malformed_token for a signed value that is no JWT',
          send: async () => ({ signedCookies: [{ name: 'at', value: 'not-a-jwt' }] }),
          expect: failure('malformed_token'),
        },
        {
          name: 'answers 400 multiple_tokens for the cookie and an Authorization header',
          send: async () => ({ ...bearer(await sign({})), signedCookies: [{ name: 'at', value: await sign({}) }] }),
          expect: failure('multiple_tokens'),
        },
        {
          name: 'answers 400 multiple_tokens for a badly signed cookie and an Authorization header',
          send: async () => ({ ...bearer(await sign({})), signedCookies: [{ name: 'at', value: await sign({}), secret: 'another-cookie-secret' }] }),
          expect: failure('multiple_tokens'),
        },
        {
          name: 'answers 400 multiple_tokens for the cookie sent twice',
          send: async () => ({
            signedCookies: [
              { name: 'at', value: await sign({}) },
              { name: 'at', value: await sign({}) },
            ],
          }),
          expect: failure('multiple_tokens'),
        },
        { name: 'still reads the Authorization header alone', send: async () => bearer(await sign({})), expect: attached() },
      ],
    },
    {
      name: 'a form body token (tokenFrom.body, RFC 6750 §2.2)',
      options: () => ({ secret: HS_SECRET, tokenFrom: { header: true, body: 'access_token' } }),
      cases: [
        { name: 'reads access_token from a POSTed form', send: async () => form(`note=hi&access_token=${await sign({})}`), expect: echoed },
        {
          name: 'reads it from a form with a charset',
          send: async () => ({ ...form(`access_token=${await sign({})}`), headers: { 'Content-Type': `${FORM}; charset=utf-8` } }),
          expect: echoed,
        },
        { name: 'verifies the token it reads', send: async () => form(`access_token=${await expired()}`), expect: failure('token_expired') },
        {
          name: 'answers 400 multiple_tokens for the parameter twice',
          send: async () => form(`access_token=${await sign({})}&access_token=${await sign({})}`),
          expect: failure('multiple_tokens'),
        },
        {
          name: 'answers 400 multiple_tokens for the parameter and an Authorization header',
          send: async () => form(`access_token=${await sign({})}`, { Authorization: `Bearer ${await sign({})}` }),
          expect: failure('multiple_tokens'),
        },
        { name: 'answers 401 malformed_token for a value that is no token', send: async () => form('access_token=a%20b'), expect: failure('malformed_token') },
        { name: 'answers 401 missing_token for a form without it', send: async () => form('note=hi'), expect: failure('missing_token') },
        { name: 'answers 401 missing_token for an empty value', send: async () => form('access_token='), expect: failure('missing_token') },
        {
          name: 'never reads the body of a GET',
          send: async () => ({ ...form(`access_token=${await sign({})}`), method: 'GET' as const }),
          expect: failure('missing_token'),
        },
        {
          name: 'never reads a JSON body',
          send: async () => ({ method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ access_token: await sign({}) }) }),
          expect: failure('missing_token'),
        },
        {
          name: 'still reads the Authorization header of a form POST',
          send: async () => form('note=hi', { Authorization: `Bearer ${await sign({})}` }),
          expect: attached(),
        },
        {
          name: 'still reads the Authorization header of a JSON POST',
          send: async () => ({
            method: 'POST',
            headers: { Authorization: `Bearer ${await sign({})}`, 'Content-Type': 'application/json' },
            body: '{"note":"hi"}',
          }),
          expect: attached(),
        },
      ],
    },
    {
      name: 'every token source at once',
      options: () => ({
        secret: HS_SECRET,
        tokenFrom: { header: 'X-Access-Token', cookie: { name: 'at', signed: true }, query: 'access_token', body: 'access_token' },
      }),
      cases: [
        { name: 'reads the signed cookie alone', send: async () => ({ signedCookies: [{ name: 'at', value: await sign({}) }] }), expect: echoed },
        { name: 'reads the body alone', send: async () => form(`access_token=${await sign({})}`), expect: echoed },
        { name: 'reads the query alone', send: async () => ({ path: `/protected?access_token=${await sign({})}` }), expect: echoed },
        {
          name: 'answers 400 multiple_tokens for the header and the body',
          send: async () => form(`access_token=${await sign({})}`, { 'X-Access-Token': await sign({}) }),
          expect: failure('multiple_tokens'),
        },
        {
          name: 'answers 400 multiple_tokens for the signed cookie and the query',
          send: async () => ({ path: `/protected?access_token=${await sign({})}`, signedCookies: [{ name: 'at', value: await sign({}) }] }),
          expect: failure('multiple_tokens'),
        },
        {
          name: 'answers 400 multiple_tokens for the body and the query',
          send: async () => ({ ...form(`access_token=${await sign({})}`), path: `/protected?access_token=${await sign({})}` }),
          expect: failure('multiple_tokens'),
        },
      ],
    },
  ];
}
