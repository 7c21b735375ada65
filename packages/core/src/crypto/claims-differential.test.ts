// Differential property test of core's own claim and header checks (claims.ts, and
// criticalHeaderProblem in verify.ts) against what core answered when jose's jwtVerify did them:
// random headers (typ, crit, b64) and claims (iat, nbf, exp, aud, iss, sub, jti, token_type) near
// a fixed time, random options, every token validly signed with HS256. The oracle is jose's
// jwtVerify with the same options, its errors mapped to our codes by the old core's fromJoseError
// (copied below from commit f7128b9), followed by the checks the old core made after jose.
import { createHmac } from 'node:crypto';
import { errors, jwtVerify, type JWTPayload, type JWTVerifyOptions } from 'jose';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createAuthenticator } from '../authenticate.js';
import { AuthError, type AuthErrorCode } from '../errors.js';
import { KeysUnavailable } from '../jwks/remote-jwks.js';

/** The fixed "now": half a second past a whole second, so flooring to seconds matters. */
const NOW_MS = 1_700_000_000_500;
const NOW = Math.floor(NOW_MS / 1000);
const SECRET = Uint8Array.from({ length: 32 }, (_, i) => (i * 89 + 7) & 0xff);

const ISSUERS = ['https://issuer.example', 'https://other.example'];
const AUDIENCES = ['api', 'other', 'API'];
const SUBJECTS = ['user-1', 'user-2'];
const CLAIM_NAMES = ['exp', 'iat', 'nbf', 'iss', 'aud', 'sub', 'jti', 'tenant'];

// ---------------------------------------------------------------------------------------------
// The oracle: the old core (f7128b9 packages/core/src/verify.ts and authenticate.ts), verbatim
// where it maps jose's answers.

interface OldFailure {
  ok: false;
  code: AuthErrorCode;
  description?: string;
  cause?: unknown;
}

const SAFE_CLAIM_NAME = /^[A-Za-z0-9_.:-]{1,64}$/;

function claimDescription(claim: string, reason: string): string | undefined {
  if (claim === 'typ') return 'The token type (typ header) is not accepted';
  if (!SAFE_CLAIM_NAME.test(claim)) return undefined;
  return reason === 'missing' ? `The token has no ${claim} claim` : `The ${claim} claim is invalid`;
}

function mistypedClaim(payload: JWTPayload): string | undefined {
  for (const claim of ['iss', 'sub', 'jti'] as const) {
    if (payload[claim] !== undefined && typeof payload[claim] !== 'string') return claim;
  }
  for (const claim of ['exp', 'nbf', 'iat'] as const) {
    if (payload[claim] !== undefined && !Number.isFinite(payload[claim])) return claim;
  }
  const { aud } = payload;
  const audienceOk = aud === undefined || typeof aud === 'string' || (Array.isArray(aud) && aud.every((item) => typeof item === 'string'));
  return audienceOk ? undefined : 'aud';
}

function fromJoseError(error: unknown): OldFailure | undefined {
  if (error instanceof KeysUnavailable) return { ok: false, code: 'key_unavailable', cause: error };
  if (error instanceof errors.JWTExpired) {
    return { ok: false, code: error.claim === 'iat' ? 'token_too_old' : 'token_expired', cause: error };
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    if ((error.claim === 'nbf' || error.claim === 'iat') && error.reason === 'check_failed') {
      return { ok: false, code: 'token_not_yet_valid', cause: error };
    }
    const description = claimDescription(error.claim, error.reason);
    return { ok: false, code: 'claim_invalid', cause: error, ...(description === undefined ? {} : { description }) };
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return { ok: false, code: 'invalid_signature', cause: error };
  if (error instanceof errors.JWKSNoMatchingKey) {
    return { ok: false, code: 'invalid_signature', description: 'No key matches the token', cause: error };
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return { ok: false, code: 'algorithm_not_allowed', cause: error };
  if (error instanceof errors.JOSEError) return { ok: false, code: 'malformed_token', cause: error };
  return undefined;
}

/** The options as the old core's resolved config gave them to jose. */
interface Rules {
  issuer?: string | string[];
  audience?: string | string[];
  subject?: string;
  typ?: string;
  maxTokenAge?: number;
  requiredClaims: string[];
  requireExp?: boolean;
  clockTolerance: number;
}

/** What a client would see: ok, or the error's code and description (and the cause's class). */
type Answer = 'ok' | { code: AuthErrorCode; description: string; cause: string | undefined };

const answerOf = (error: AuthError): Answer => ({
  code: error.code,
  description: error.description,
  cause: error.cause instanceof Error ? error.cause.constructor.name : undefined,
});

async function oldCore(token: string, rules: Rules): Promise<Answer> {
  const currentDate = new Date(NOW_MS);
  // config.ts: requireExp (default true) adds exp to requiredClaims.
  const requiredClaims = [...rules.requiredClaims];
  if (rules.requireExp !== false && !requiredClaims.includes('exp')) requiredClaims.push('exp');
  const options: JWTVerifyOptions = {
    algorithms: ['HS256'],
    clockTolerance: rules.clockTolerance,
    currentDate,
    requiredClaims,
    ...(rules.issuer === undefined ? {} : { issuer: rules.issuer }),
    ...(rules.audience === undefined ? {} : { audience: rules.audience }),
    ...(rules.subject === undefined ? {} : { subject: rules.subject }),
    ...(rules.typ === undefined ? {} : { typ: rules.typ }),
    ...(rules.maxTokenAge === undefined ? {} : { maxTokenAge: rules.maxTokenAge }),
  };
  const refuse = (failure: OldFailure): Answer => answerOf(new AuthError(failure.code, { description: failure.description, cause: failure.cause }));
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, SECRET, options));
  } catch (error) {
    const mapped = fromJoseError(error);
    if (mapped === undefined) throw error;
    const refreshAsAccess = error instanceof errors.JWTClaimValidationFailed && error.claim === 'typ' && error.payload.token_type === 'refresh';
    return refuse(refreshAsAccess ? { ok: false, code: 'wrong_token_type', cause: error } : mapped);
  }
  const mistyped = mistypedClaim(payload);
  if (mistyped !== undefined) return refuse({ ok: false, code: 'claim_invalid', description: `The ${mistyped} claim is invalid` });
  const { iat } = payload;
  if (typeof iat === 'number' && iat > currentDate.getTime() / 1000 + rules.clockTolerance) {
    return refuse({ ok: false, code: 'token_not_yet_valid', description: 'The token was issued in the future (clockTolerance allows for clock skew)' });
  }
  // authenticate.ts, after verification.
  if (payload.token_type === 'refresh') return refuse({ ok: false, code: 'wrong_token_type' });
  return 'ok';
}

async function core(token: string, rules: Rules): Promise<Answer> {
  const authenticator = createAuthenticator({
    ...rules,
    secret: SECRET,
    algorithms: ['HS256'],
    cache: false,
    currentDate: () => new Date(NOW_MS),
  });
  const result = await authenticator.authenticate({ headers: { authorization: `Bearer ${token}` } }, new Request('http://127.0.0.1/'));
  return result.ok ? 'ok' : answerOf(result.error);
}

// ---------------------------------------------------------------------------------------------
// Tokens.

/** Stand-ins for JSON numbers JSON.stringify cannot write: JSON.parse reads them as ±Infinity. */
const RAW_NUMBERS: Record<string, string> = { '"<+1e400>"': '1e400', '"<-1e400>"': '-1e400' };

function encodeSegment(value: object): string {
  let json = JSON.stringify(value);
  for (const [standIn, raw] of Object.entries(RAW_NUMBERS)) json = json.replaceAll(standIn, raw);
  return Buffer.from(json).toString('base64url');
}

function sign(header: object, payload: object): string {
  const signingInput = `${encodeSegment({ alg: 'HS256', ...header })}.${encodeSegment(payload)}`;
  return `${signingInput}.${createHmac('sha256', SECRET).update(signingInput).digest('base64url')}`;
}

/**
 * A record whose fields are each present with the given chance (in tenths), so that most tokens
 * get through most checks and every later check is reached too.
 */
function sometimes<T extends Record<string, unknown>>(fields: { [K in keyof T]: [tenths: number, fc.Arbitrary<T[K]>] }): fc.Arbitrary<Partial<T>> {
  const entries = Object.entries(fields).map(([name, [tenths, arbitrary]]) => [
    name,
    fc.oneof({ weight: 10 - tenths, arbitrary: fc.constant(undefined) }, { weight: tenths, arbitrary: arbitrary as fc.Arbitrary<unknown> }),
  ]);
  return fc
    .record(Object.fromEntries(entries) as Record<string, fc.Arbitrary<unknown>>)
    .map((record) => Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined)) as Partial<T>);
}

/**
 * A NumericDate claim: mostly at or within a second of a boundary of the rules (now ±
 * clockTolerance, the maxTokenAge limit, the unfloored now of the future-iat check), else near
 * now, far away, ±Infinity, or a value of another type.
 */
function numericDate(rules: Rules): fc.Arbitrary<unknown> {
  const { clockTolerance: tolerance, maxTokenAge = 0 } = rules;
  const boundaries = [NOW, NOW + tolerance, NOW - tolerance, NOW - maxTokenAge - tolerance, NOW_MS / 1000 + tolerance];
  return fc.oneof(
    { weight: 8, arbitrary: fc.tuple(fc.constantFrom(...boundaries), fc.constantFrom(-1, -0.5, 0, 0, 0.5, 1)).map(([at, delta]) => at + delta) },
    { weight: 6, arbitrary: fc.integer({ min: -40, max: 40 }).map((offset) => NOW + offset) },
    { weight: 2, arbitrary: fc.integer({ min: -80, max: 80 }).map((halves) => NOW + halves / 2) },
    { weight: 1, arbitrary: fc.constantFrom<unknown>(NOW - 100_000, NOW + 100_000, 0, -1, 1e20, '<+1e400>', '<-1e400>') },
    { weight: 1, arbitrary: fc.constantFrom<unknown>(String(NOW), `${NOW + 60}`, null, true, [NOW + 60], {}, '') },
  );
}

const audienceClaim = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom<unknown>(...AUDIENCES, '') },
  { weight: 4, arbitrary: fc.array(fc.constantFrom(...AUDIENCES), { maxLength: 3 }) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(1, null, [1], ['api', 2], {}, true) },
);

const stringClaim = (values: readonly string[]) =>
  fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom<unknown>(...values) },
    { weight: 1, arbitrary: fc.constantFrom<unknown>('', 1, null, [values[0]], {}, false) },
  );

const payloadArbitrary = (rules: Rules) =>
  sometimes({
    iat: [8, numericDate(rules)],
    nbf: [3, numericDate(rules)],
    exp: [9, numericDate(rules)],
    aud: [8, audienceClaim],
    iss: [8, stringClaim(ISSUERS)],
    sub: [8, stringClaim(SUBJECTS)],
    jti: [2, stringClaim(['id-1'])],
    tenant: [2, fc.constantFrom<unknown>('t', null, 0)],
    token_type: [1, fc.constantFrom('refresh', 'access')],
  });

const TYPS = ['JWT', 'jwt', 'at+jwt', 'AT+JWT', 'at+JWT', 'application/at+jwt', 'Application/AT+JWT', 'application/jwt', 'application/JWT', 'jwt+at', ''];

const headerArbitrary = sometimes({
  typ: [6, fc.oneof({ weight: 8, arbitrary: fc.constantFrom<unknown>(...TYPS) }, { weight: 1, arbitrary: fc.constantFrom<unknown>(5, null, ['JWT'], {}) })],
  crit: [1, fc.constantFrom<unknown>(['b64'], [], ['b64', 'b64'], ['exp'], ['b64', 'zip'], ['zip', 'b64'], 'b64', [''], [1], null)],
  b64: [2, fc.constantFrom<unknown>(true, false, 'true', null, 0)],
  kid: [2, fc.constantFrom('k1', '')],
});

const listOrOne = <T>(values: readonly T[]) =>
  fc.oneof(fc.constantFrom(...values), fc.uniqueArray(fc.constantFrom(...values), { minLength: 1, maxLength: values.length }));

const rulesArbitrary: fc.Arbitrary<Rules> = fc
  .tuple(
    sometimes({
      issuer: [3, fc.oneof({ weight: 4, arbitrary: listOrOne(ISSUERS) }, { weight: 1, arbitrary: fc.constant<string[]>(['https://nobody.example']) })],
      audience: [3, fc.oneof({ weight: 4, arbitrary: listOrOne(AUDIENCES) }, { weight: 1, arbitrary: fc.constant<string[]>(['nobody']) })],
      subject: [2, fc.constantFrom(...SUBJECTS)],
      typ: [2, fc.constantFrom('at+jwt', 'AT+JWT', 'application/at+jwt', 'JWT', 'application/jwt')],
      maxTokenAge: [3, fc.oneof(fc.integer({ min: 0, max: 40 }), fc.constantFrom(2.5, 10.5))],
      requireExp: [3, fc.boolean()],
    }),
    fc.oneof({ weight: 3, arbitrary: fc.constant<string[]>([]) }, { weight: 1, arbitrary: fc.subarray(CLAIM_NAMES, { maxLength: 3 }) }),
    fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 0, max: 10 }) }, { weight: 1, arbitrary: fc.constantFrom(0.5, 2.5, 9.75) }),
  )
  .map(([rules, requiredClaims, clockTolerance]) => ({ ...rules, requiredClaims, clockTolerance }));

/** Options, then a header and claims for them. */
const tokenArbitrary = rulesArbitrary.chain((rules) => fc.tuple(headerArbitrary, payloadArbitrary(rules), fc.constant(rules)));

const RULES: Rules = { requiredClaims: [], clockTolerance: 5 };
type Example = [header: Record<string, unknown>, payload: Record<string, unknown>, rules: Rules];
const EXAMPLES: [Example][] = (
  [
    [{}, { iat: NOW, exp: NOW + 60 }, RULES],
    [{}, { iat: NOW - 60, exp: NOW - 5 }, RULES],
    [{}, { iat: NOW, nbf: NOW + 6, exp: NOW + 60 }, RULES],
    [{}, { iat: NOW - 31, exp: NOW + 60 }, { ...RULES, maxTokenAge: 25 }],
    [{}, { iat: NOW + 6, exp: NOW + 60 }, RULES],
    [{}, { iat: NOW, exp: NOW + 60, token_type: 'refresh' }, RULES],
    [{ typ: 'JWT' }, { iat: NOW, exp: NOW + 60, token_type: 'refresh' }, { ...RULES, typ: 'at+jwt' }],
    [{ crit: ['b64'], b64: false }, { iat: NOW, exp: NOW + 60 }, RULES],
    [{ crit: ['zip'] }, { iat: NOW, exp: NOW + 60 }, RULES],
    [{}, { iat: NOW, exp: NOW + 60, aud: ['api', 2] }, RULES],
    [{}, { iat: NOW, exp: '<+1e400>' }, RULES],
  ] satisfies Example[]
).map((example) => [example]);

/** Runs (the examples included): about 1 ms each, core and jose together. */
const NUM_RUNS = 1000;

describe('claim and header checks: core answers as jose (with the old core mapping) did', () => {
  it('for random claims, headers and options, HS256-signed', async () => {
    const outcomes = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(tokenArbitrary, async ([header, payload, rules]) => {
        const token = sign(header, payload);
        const expected = await oldCore(token, rules);
        expect(await core(token, rules)).toEqual(expected);
        const outcome = expected === 'ok' ? 'ok' : expected.code;
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      }),
      // Examples count towards numRuns: one token for each outcome first, then random ones.
      { numRuns: NUM_RUNS, examples: EXAMPLES },
    );
    // The runs reach every outcome the claim and header checks can give, accepting tokens too.
    expect([...outcomes.keys()].sort()).toEqual(
      ['claim_invalid', 'malformed_token', 'ok', 'token_expired', 'token_not_yet_valid', 'token_too_old', 'wrong_token_type'].sort(),
    );
  });
});
