import { errors, type JWSHeaderParameters, type JWTPayload } from 'jose';
import type { VerifyFailure } from './verify.js';
import { withoutStack } from '../without-stack.js';

/** What the claims of a verified token must satisfy. */
export interface ClaimRules {
  typ: string | undefined;
  requiredClaims: readonly string[];
  issuer: string | readonly string[] | undefined;
  subject: string | undefined;
  audience: string | readonly string[] | undefined;
  /** Seconds. */
  clockTolerance: number;
  /** Seconds. */
  maxTokenAge: number | undefined;
  currentDate: Date;
}

const SAFE_CLAIM_NAME = /^[A-Za-z0-9_.:-]{1,64}$/;

function claimDescription(claim: string, reason: string): string | undefined {
  if (claim === 'typ') return 'The token type (typ header) is not accepted';
  if (!SAFE_CLAIM_NAME.test(claim)) return undefined;
  return reason === 'missing' ? `The token has no ${claim} claim` : `The ${claim} claim is invalid`;
}

/** A failed claim check: the contract's code, and as `cause` the error jose would have raised. */
function claimFailure(payload: JWTPayload, claim: string, reason: 'missing' | 'invalid' | 'check_failed', message: string, expired = false): VerifyFailure {
  const cause = withoutStack(() =>
    expired ? new errors.JWTExpired(message, payload, claim, reason) : new errors.JWTClaimValidationFailed(message, payload, claim, reason),
  );
  if (expired) return { ok: false, code: claim === 'iat' ? 'token_too_old' : 'token_expired', reason: message, cause };
  if ((claim === 'nbf' || claim === 'iat') && reason === 'check_failed') return { ok: false, code: 'token_not_yet_valid', reason: message, cause };
  if (claim === 'typ' && payload.token_type === 'refresh') {
    // A signed refresh token fails the access-token `typ` check first; say what it really is.
    return { ok: false, code: 'wrong_token_type', reason: message, cause };
  }
  const description = claimDescription(claim, reason);
  return { ok: false, code: 'claim_invalid', reason: message, cause, ...(description === undefined ? {} : { description }) };
}

const normalizeTyp = (value: string) => {
  const lower = value.toLowerCase();
  return value.includes('/') ? lower : `application/${lower}`;
};

function numericDate(payload: JWTPayload, claim: 'iat' | 'nbf' | 'exp', required: boolean): number | VerifyFailure | undefined {
  const value = payload[claim];
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'number') return claimFailure(payload, claim, 'invalid', `"${claim}" claim must be a number`);
  return value;
}

function lastMissing(payload: JWTPayload, required: readonly string[]): string | undefined {
  for (let i = required.length - 1; i >= 0; i--) if (!Object.hasOwn(payload, required[i]!)) return required[i];
  return undefined;
}

/**
 * Checks the JWT claims of a token whose signature verified, exactly as jose's `jwtVerify` does
 * (same checks, same order, same outcome; a differential test holds the two together), but
 * returning the failure instead of throwing it.
 */
export function checkClaims(header: JWSHeaderParameters, payload: JWTPayload, rules: ClaimRules): VerifyFailure | undefined {
  const { typ, issuer, subject, audience, maxTokenAge, clockTolerance } = rules;
  if (typ !== undefined && (typeof header.typ !== 'string' || normalizeTyp(header.typ) !== normalizeTyp(typ))) {
    return claimFailure(payload, 'typ', 'check_failed', 'unexpected "typ" JWT header value');
  }
  // jose's order: iss, sub, aud, iat (when they are checked), then requiredClaims from the last.
  // A claim named twice is checked twice, which changes nothing.
  const missing =
    (issuer !== undefined && !Object.hasOwn(payload, 'iss') && 'iss') ||
    (subject !== undefined && !Object.hasOwn(payload, 'sub') && 'sub') ||
    (audience !== undefined && !Object.hasOwn(payload, 'aud') && 'aud') ||
    (maxTokenAge !== undefined && !Object.hasOwn(payload, 'iat') && 'iat') ||
    lastMissing(payload, rules.requiredClaims);
  if (missing !== undefined) return claimFailure(payload, missing, 'missing', `missing required "${missing}" claim`);
  if (issuer !== undefined && !(typeof issuer === 'string' ? [issuer] : issuer).includes(payload.iss as string))
    return claimFailure(payload, 'iss', 'check_failed', 'unexpected "iss" claim value');
  if (subject !== undefined && payload.sub !== subject) return claimFailure(payload, 'sub', 'check_failed', 'unexpected "sub" claim value');
  if (audience !== undefined) {
    const accepted = typeof audience === 'string' ? [audience] : audience;
    const { aud } = payload;
    const present = typeof aud === 'string' ? accepted.includes(aud) : Array.isArray(aud) ? accepted.some((value) => aud.includes(value)) : false;
    if (!present) return claimFailure(payload, 'aud', 'check_failed', 'unexpected "aud" claim value');
  }
  const now = Math.floor(rules.currentDate.getTime() / 1000);
  const iat = numericDate(payload, 'iat', maxTokenAge !== undefined);
  if (typeof iat === 'object') return iat;
  const nbf = numericDate(payload, 'nbf', false);
  if (typeof nbf === 'object') return nbf;
  if (nbf !== undefined && nbf > now + clockTolerance) return claimFailure(payload, 'nbf', 'check_failed', '"nbf" claim timestamp check failed');
  const exp = numericDate(payload, 'exp', false);
  if (typeof exp === 'object') return exp;
  if (exp !== undefined && exp <= now - clockTolerance) return claimFailure(payload, 'exp', 'check_failed', '"exp" claim timestamp check failed', true);
  if (maxTokenAge !== undefined) {
    const age = now - (iat as number);
    if (age - clockTolerance > maxTokenAge)
      return claimFailure(payload, 'iat', 'check_failed', '"iat" claim timestamp check failed (too far in the past)', true);
    if (age < -clockTolerance) return claimFailure(payload, 'iat', 'check_failed', '"iat" claim timestamp check failed (it should be in the past)');
  }
  return undefined;
}
