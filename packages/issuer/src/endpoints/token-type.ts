/**
 * The `token_type` claim a compact JWT says it has, read WITHOUT verifying it, or `undefined`
 * when the token cannot be read. Only for refusing a refresh token at `/token/verify` before its
 * signature or revocation is looked at, so that the answer tells nothing about whether it is live.
 */
export function claimedTokenType(token: string): unknown {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[1] === undefined || !/^[A-Za-z0-9_-]+$/.test(parts[1])) return undefined;
  try {
    const base64 = parts[1].replace(/-/g, '+').replace(/_/g, '/');
    const bytes = Uint8Array.from(atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4)), (c) => c.charCodeAt(0));
    const payload: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    return typeof payload === 'object' && payload !== null && Object.hasOwn(payload, 'token_type')
      ? (payload as { token_type: unknown }).token_type
      : undefined;
  } catch {
    return undefined;
  }
}
