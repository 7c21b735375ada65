import { SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { createAuthenticator } from '../authenticate.js';
import { decodeCompact } from './compact.js';

const NOW = new Date('2030-01-01T00:00:00Z');
const NOW_S = NOW.getTime() / 1000;
const SECRET = 'compact-test-secret-0123456789abcdef-0123456789';
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Every other spelling of a segment's last character that decodes to the same bytes. */
function respellings(segment: string): string[] {
  const bytes = Buffer.from(segment, 'base64url');
  return [...ALPHABET].filter((c) => c !== segment.at(-1) && Buffer.from(segment.slice(0, -1) + c, 'base64url').equals(bytes));
}

function respell(token: string, index: number): string[] {
  const segments = token.split('.');
  return respellings(segments[index]!).map((c) => {
    const copy = [...segments];
    copy[index] = copy[index]!.slice(0, -1) + c;
    return copy.join('.');
  });
}

let token: string;
beforeAll(async () => {
  // Payload and signature lengths that leave unused bits in their last character.
  token = await new SignJWT({ sub: 'user-1', iat: NOW_S, exp: NOW_S + 300 })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .sign(new TextEncoder().encode(SECRET));
});

describe('decodeCompact', () => {
  it('decodes a token as issued', () => {
    expect(decodeCompact(token)?.payload.sub).toBe('user-1');
  });

  it.each([0, 1, 2])('refuses segment %i spelled with non-zero unused bits (RFC 4648 §3.5)', (index) => {
    const variants = respell(token, index);
    // The header of this token is 36 characters: a multiple of 4 has no unused bits to set.
    if (index === 0) expect(variants).toEqual([]);
    else expect(variants.length).toBeGreaterThan(0);
    for (const variant of variants) expect(decodeCompact(variant)).toBeUndefined();
  });

  it.each<[string, string]>([
    ['a segment of 4n + 1 characters', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlA'],
    ['padding characters', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0=.c2lnbmF0dXJl'],
    ['standard base64 characters', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln+mF0dXJl'],
  ])('refuses %s', (_, value) => {
    expect(decodeCompact(value)).toBeUndefined();
  });
});

describe('a token spelled differently from how it was issued', () => {
  it('answers 401 malformed_token although jose would verify the same bytes', async () => {
    const authenticator = createAuthenticator({ secret: SECRET, currentDate: () => NOW, cache: false });
    const ok = await authenticator.authenticate(new Request('https://api.example/', { headers: { authorization: `Bearer ${token}` } }), undefined);
    expect(ok.ok).toBe(true);
    const variants = [...respell(token, 1), ...respell(token, 2)];
    expect(variants.length).toBeGreaterThan(0);
    for (const variant of variants) {
      const result = await authenticator.authenticate(new Request('https://api.example/', { headers: { authorization: `Bearer ${variant}` } }), undefined);
      expect(result.ok ? 'ok' : result.error.code).toBe('malformed_token');
    }
  });
});

describe('decodeCompact: the base64url decoding', () => {
  const segment = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

  it('decodes header and payload of every length modulo 4, and all of UTF-8, as Node does', () => {
    for (let pad = 0; pad < 12; pad++) {
      const payload = { sub: 'x'.repeat(pad), name: 'Zoë ☃ 𝄞', n: pad };
      const header = { alg: 'HS256', kid: 'k'.repeat(pad) };
      expect(decodeCompact(`${segment(header)}.${segment(payload)}.c2ln`)).toMatchObject({
        header,
        payload,
        segments: [segment(header), segment(payload), 'c2ln'],
        signingInput: `${segment(header)}.${segment(payload)}`,
        signature: new Uint8Array(Buffer.from('sig')),
      });
    }
  });

  it('matches Node for random JSON strings (1,000 cases)', () => {
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    for (let run = 0; run < 1000; run++) {
      const text = Array.from({ length: Math.floor(random() * 40) }, () => String.fromCodePoint(Math.floor(random() * 0x2fff) + 0x20)).join('');
      const payload = { text };
      expect(decodeCompact(`${segment({ alg: 'HS256' })}.${segment(payload)}.c2ln`)?.payload).toEqual(
        JSON.parse(Buffer.from(segment(payload), 'base64url').toString('utf8')),
      );
    }
  });

  it('refuses a segment that is not UTF-8', () => {
    const notUtf8 = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]).toString('base64url'); // {"a":"\xff"}
    expect(decodeCompact(`${segment({ alg: 'HS256' })}.${notUtf8}.c2ln`)).toBeUndefined();
  });
});
