/**
 * Property tests (fast-check) through every adapter, over real HTTP on 127.0.0.1: arbitrary
 * `Authorization` lines, cookies, query strings, token-shaped strings and valid tokens changed in
 * one bit or one character. Every request is written byte for byte over a socket, so bytes Node's
 * HTTP client would refuse to send are sent too. For every input, every adapter must give an
 * answer of the contract (test/fuzz-model.ts says which), never a 500, a crash or a hang, and all
 * of them the same answer.
 *
 * Runs are bounded (NUM_RUNS below) and seeded at random; a failure prints the seed and path.
 * Replay one with FC_SEED=<seed> FC_PATH=<path>, or search longer with FC_RUNS=<n>.
 */
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HS_SECRET, now, sign } from './fixtures.js';
import { B64TOKEN, comparable, contractViolation, expectAuthorization, expectLocations, type Expected, type LocationsInput } from './fuzz-model.js';
import { harnesses, type AnyOptions, type RunningServer } from './harness/index.js';
import { sendRaw, type RawRequest } from './raw-http.js';

/** Runs per property: together about 15 s on a busy two-core machine. */
const NUM_RUNS = { header: 200, locations: 150, shaped: 100, mutated: 200 } as const;
/** Per property; a longer search (FC_RUNS) gets an hour. */
const TIMEOUT = process.env.FC_RUNS === undefined ? 60_000 : 3_600_000;

const NAME = 'access_token';
const scenarios = {
  header: { secret: HS_SECRET },
  locations: { secret: HS_SECRET, tokenFrom: { header: true, cookie: NAME, query: NAME } },
} satisfies Record<string, AnyOptions>;
type Scenario = keyof typeof scenarios;

// Valid for the whole run; the only token any property expects a 200 for.
const VALID = await sign({ sub: 'user-1', scope: 'read', iat: now(), exp: now() + 3600 });
// Well-formed, canonical, and wrong: its signature ends in AA.
const OTHER = await sign({ sub: 'user-1', iat: now(), exp: now() + 3600 }, { header: { kid: 'other' } }).then((t) => t.slice(0, -2) + 'AA');

const running = new Map<Scenario, Array<{ framework: string; server: RunningServer }>>();
beforeAll(async () => {
  for (const scenario of Object.keys(scenarios) as Scenario[]) {
    running.set(scenario, await Promise.all(harnesses.map(async (h) => ({ framework: h.name, server: await h.start(scenarios[scenario]) }))));
  }
});
afterAll(async () => {
  await Promise.all([...running.values()].flat().map(({ server }) => server.close()));
});

/**
 * Sends `request` to every adapter of `scenario` at once and checks each answer against the
 * contract and `expected`, then that all adapters agree. `token` is what a 200 must carry.
 */
async function check(scenario: Scenario, request: RawRequest, expected: Expected, token = VALID): Promise<void> {
  const answers = await Promise.all(
    running.get(scenario)!.map(async ({ framework, server }) => {
      try {
        return { framework, answer: await sendRaw(server.url, request) };
      } catch (error) {
        throw new Error(`${framework}: ${(error as Error).message}`);
      }
    }),
  );
  for (const { framework, answer } of answers) {
    const wrong = contractViolation(answer, framework, expected, token);
    if (wrong !== undefined) throw new Error(`${framework}: ${wrong}\n${answer.status} ${answer.body}`);
  }
  const [first, ...rest] = answers.map(({ framework, answer }) => ({ framework, seen: comparable(answer, framework) }));
  for (const other of rest) expect(other.seen, `${other.framework} differs from ${first!.framework}`).toEqual(first!.seen);
}

/** Bounded runs; a seed and path from the environment replay a failure. */
function runs<T>(numRuns: number, examples: T[] = []): fc.Parameters<T> {
  const seed = process.env.FC_SEED === undefined ? undefined : Number(process.env.FC_SEED);
  return {
    numRuns: process.env.FC_RUNS === undefined ? numRuns : Number(process.env.FC_RUNS),
    examples,
    ...(seed === undefined ? {} : { seed, path: process.env.FC_PATH }),
  };
}

// ---------------------------------------------------------------------------------------------
// Arbitraries

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** Any byte, written as one latin1 character. */
const anyByte = fc.integer({ min: 0, max: 255 }).map((code) => String.fromCharCode(code));
/** Characters that matter to the parsers: the b64token alphabet, separators, whitespace, obs-text, anything. */
const fieldChar = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...'AZaz09-._~+/=') },
  { weight: 3, arbitrary: fc.constantFrom(' ', '  ', '\t', ',', ', ', '"', ';', '\\', '=', '(', '@') },
  { weight: 1, arbitrary: fc.constantFrom('\xa0', '\x85', '\xe9', '\xff', '\x0b', '\x00', '\x7f') },
  { weight: 1, arbitrary: anyByte },
);
/** CR LF would end the field line rather than be part of it (a lone CR or LF Node refuses). */
const noCrLf = (value: string) => !value.includes('\r\n');
const junk = (maxLength = 24) => fc.string({ unit: fieldChar, maxLength }).filter(noCrLf);
const ows = fc.constantFrom('', '', ' ', '\t', ' \t ');
const b64url = (maxLength: number) => fc.string({ unit: fc.constantFrom(...B64URL), maxLength });

const authorizationValue = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(`Bearer ${VALID}`, '', ' ', ',', ', ', 'Bearer', 'Basic dXNlcjpwYXNz', 'Digest username="a", realm="b"') },
  {
    weight: 6,
    arbitrary: fc
      .tuple(
        ows,
        fc.constantFrom('Bearer', 'bearer', 'BEARER', 'bEaReR', 'Basic', 'Bearerx', 'DPoP', '', '\xa0Bearer'),
        fc.constantFrom(' ', ' ', '   ', '\t', ' \t', '', '\xa0', ','),
        fc.oneof(
          fc.constant(VALID),
          fc.constant(OTHER),
          junk(),
          junk(6).map((j) => VALID + j),
          junk(6).map((j) => j + VALID),
        ),
        fc.oneof(ows, fc.constantFrom('\xa0', ',', ', ', ', Bearer x')),
      )
      .map((parts) => parts.join(''))
      .filter(noCrLf),
  },
  { weight: 2, arbitrary: junk(40) },
  // Long runs of separators: a parser that backtracks would take seconds, and time out here.
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.constantFrom('Bearer ', 'Basic ', ''),
        fc.constantFrom(',', ', ', ' ,', ' ', '\t', 'a=', '=,', ', Bearer', ',a b'),
        fc.integer({ min: 100, max: 4000 }),
        junk(4),
      )
      // About 4 KB a line: three of them stay under Node's 16 KiB header limit (else a 431).
      .map(([scheme, unit, length, end]) => scheme + unit.repeat(Math.ceil(length / unit.length)) + end),
  },
);
const authorizationLine = fc.tuple(fc.constantFrom('Authorization', 'authorization', 'AUTHORIZATION'), authorizationValue);

const tokenValue = fc.oneof(
  { weight: 3, arbitrary: fc.constant(VALID) },
  { weight: 1, arbitrary: fc.constant(OTHER) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom(' ', '\t', '\xa0', '"'), fc.constantFrom('', ' ', '\t', '\xa0', '"')).map(([a, b]) => `${a}${VALID}${b}`) },
  { weight: 2, arbitrary: junk(16) },
  { weight: 1, arbitrary: fc.constantFrom('', '""', '"', '=', 'a.b.c') },
);
const cookiePair = fc.oneof(
  {
    weight: 5,
    arbitrary: fc
      .tuple(fc.constantFrom(NAME, NAME, ` ${NAME}`, `${NAME}\t`, 'Access_Token', `${NAME}2`, 'theme', '', `\xa0${NAME}`), tokenValue)
      .map(([n, v]) => `${n}=${v}`),
  },
  { weight: 1, arbitrary: fc.constantFrom(NAME, 'theme', '', ';') },
);
const cookieLine = fc
  .tuple(fc.array(cookiePair, { minLength: 1, maxLength: 4 }), fc.constantFrom('; ', ';', ' ; ', ', ', ';\t'))
  .map(([pairs, separator]) => pairs.join(separator))
  .filter(noCrLf);

/** Query characters Node lets through (printable ASCII but space), and rarely one it refuses. */
const queryChar = fc.oneof(
  { weight: 40, arbitrary: fc.constantFrom(...'aZ09-._~!$\'()*,;:@/?%+=&#"<>[]\\^`{|}') },
  { weight: 1, arbitrary: fc.constantFrom(' ', '\x7f', '\xe9', '\t') },
);
/** `VALID` with some characters percent-encoded: the same token once decoded. */
const percentEncodedValid = fc
  .array(fc.boolean(), { minLength: VALID.length, maxLength: VALID.length })
  .map((encode) => [...VALID].map((c, i) => (encode[i] ? `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}` : c)).join(''));
const queryParam = fc.oneof(
  {
    weight: 5,
    arbitrary: fc
      .tuple(
        fc.constantFrom(NAME, NAME, 'access%5Ftoken', 'access_token%20', 'ACCESS_TOKEN', 'a', '', 'access_token[]', 'access+token'),
        fc.oneof(
          fc.constant(VALID),
          percentEncodedValid,
          fc.constant(OTHER),
          fc.string({ unit: queryChar, maxLength: 12 }),
          fc.constantFrom('', '%', '%zz', '+', '%2C'),
        ),
      )
      .map(([n, v]) => `${n}=${v}`),
  },
  { weight: 1, arbitrary: fc.string({ unit: queryChar, maxLength: 12 }) },
);
const query = fc
  .tuple(fc.array(queryParam, { maxLength: 3 }), fc.constantFrom('&', '&&'), fc.option(fc.string({ unit: queryChar, maxLength: 8 }), { nil: undefined }))
  .map(([params, separator, fragment]) => params.join(separator) + (fragment === undefined ? '' : `#${fragment}`));

const locationsInput: fc.Arbitrary<LocationsInput> = fc.record({
  authorization: fc.oneof(
    { weight: 4, arbitrary: fc.constant([]) },
    { weight: 1, arbitrary: fc.constantFrom([`Bearer ${VALID}`], [`bearer  ${OTHER}`], ['Bearer'], ['Basic dXNlcjpwYXNz'], ['']) },
  ),
  cookies: fc.array(cookieLine, { maxLength: 2 }),
  query,
});

const toB64url = (bytes: Uint8Array | string) => Buffer.from(bytes).toString('base64url');
const fromB64url = (text: string) => Buffer.from(text, 'base64url');

const hmacToken = (header: unknown, payload: unknown, hash = 'sha256') => {
  const input = `${toB64url(JSON.stringify(header) ?? 'null')}.${toB64url(JSON.stringify(payload) ?? 'null')}`;
  return `${input}.${toB64url(createHmac(hash, HS_SECRET).update(input).digest())}`;
};

/** A token-shaped string, and whether it is correctly signed with the scenario's secret. */
const shapedToken: fc.Arbitrary<{ token: string; signed: boolean }> = fc.oneof(
  fc.array(b64url(40), { minLength: 1, maxLength: 5 }).map((segments) => ({ token: segments.join('.'), signed: false })),
  // Signed and current, with arbitrary extra claims (prototype keys too): many of these pass.
  fc
    .dictionary(
      fc.oneof(fc.string(), fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'scope', 'scp', 'aud', 'token_type')),
      fc.jsonValue(),
      { maxKeys: 5 },
    )
    .map((claims) => ({ token: hmacToken({ alg: 'HS256' }, { sub: 'user-1', iat: now(), exp: now() + 3600, ...claims }), signed: true })),
  fc
    .tuple(
      fc.oneof(
        fc.record(
          {
            alg: fc.oneof(fc.constantFrom('HS256', 'HS384', 'HS512', 'none', 'None', 'RS256', 'ES256', 'EdDSA', 'HS256 ', 'hs256', ''), fc.jsonValue()),
            typ: fc.constantFrom('JWT', 'at+jwt', 'jwt'),
            kid: fc.oneof(fc.constantFrom('__proto__', 'constructor', 'toString', ''), fc.string()),
            crit: fc.oneof(fc.constant(['exp']), fc.jsonValue()),
            b64: fc.boolean(),
          },
          { requiredKeys: ['alg'] },
        ),
        fc.jsonValue(),
      ),
      fc.oneof(
        fc.record(
          {
            sub: fc.oneof(fc.string(), fc.jsonValue()),
            exp: fc.oneof(fc.constant(now() + 3600), fc.constant(now() - 3600), fc.jsonValue()),
            nbf: fc.oneof(fc.constant(now() + 3600), fc.constant(now() - 3600), fc.jsonValue()),
            iat: fc.oneof(fc.constant(now()), fc.constant(now() + 3600), fc.jsonValue()),
            scope: fc.oneof(fc.string(), fc.jsonValue()),
            scp: fc.oneof(fc.array(fc.string()), fc.jsonValue()),
            token_type: fc.constantFrom('access', 'refresh'),
            ['__proto__']: fc.jsonValue(),
            constructor: fc.jsonValue(),
          },
          { requiredKeys: [] },
        ),
        fc.jsonValue(),
      ),
      fc.constantFrom('hmac', 'random', 'empty'),
      b64url(86),
    )
    .map(([header, payload, signature, random]) => {
      const alg = typeof header === 'object' && header !== null && 'alg' in header ? header.alg : undefined;
      if (signature === 'hmac') return { token: hmacToken(header, payload, alg === 'HS384' ? 'sha384' : alg === 'HS512' ? 'sha512' : 'sha256'), signed: true };
      const input = `${toB64url(JSON.stringify(header) ?? 'null')}.${toB64url(JSON.stringify(payload) ?? 'null')}`;
      return { token: `${input}.${signature === 'random' ? random : ''}`, signed: false };
    }),
);

/** A valid token changed in exactly one place. */
type Mutation =
  | { kind: 'flip-char'; index: number; bit: number }
  | { kind: 'replace'; index: number; char: string }
  | { kind: 'flip-byte'; segment: number; index: number; bit: number }
  /** The last character of a segment swapped for another that decodes to the same bytes. */
  | { kind: 'respell'; segment: number; pick: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip-char' as const), index: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({
    kind: fc.constant('replace' as const),
    index: fc.nat(),
    char: fc.oneof(fc.constantFrom(...B64URL, '.', '=', '+', '/', '~', ' ', '\t', ',', ';', '"', '%', '\xa0', '\xe9'), anyByte),
  }),
  fc.record({ kind: fc.constant('flip-byte' as const), segment: fc.integer({ min: 0, max: 2 }), index: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('respell' as const), segment: fc.integer({ min: 0, max: 2 }), pick: fc.nat() }),
);

/** Other spellings of a segment's last character: same decoded bytes, different padding bits. */
function respellings(segment: string): string[] {
  const bytes = fromB64url(segment);
  return [...B64URL].filter((c) => c !== segment.at(-1) && fromB64url(segment.slice(0, -1) + c).equals(bytes));
}

function mutate(token: string, m: Mutation): string {
  const segments = token.split('.');
  switch (m.kind) {
    case 'flip-char': {
      const i = m.index % token.length;
      return token.slice(0, i) + String.fromCharCode(token.charCodeAt(i) ^ (1 << m.bit)) + token.slice(i + 1);
    }
    case 'replace': {
      const i = m.index % token.length;
      return token.slice(0, i) + m.char + token.slice(i + 1);
    }
    case 'flip-byte': {
      const bytes = fromB64url(segments[m.segment]!);
      bytes[m.index % bytes.length]! ^= 1 << m.bit;
      segments[m.segment] = toB64url(bytes);
      return segments.join('.');
    }
    case 'respell': {
      // Only segments whose length leaves padding bits have other spellings; the signature always does.
      const candidates = [m.segment, 2].filter((s) => respellings(segments[s]!).length > 0);
      const s = candidates[0]!;
      const others = respellings(segments[s]!);
      segments[s] = segments[s]!.slice(0, -1) + others[m.pick % others.length];
      return segments.join('.');
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Properties

describe(`fuzzing all ${harnesses.length} adapters over HTTP`, () => {
  it(
    'answers arbitrary Authorization lines (none, one or several, empty ones too) per the contract, alike everywhere',
    async () => {
      const knownCases: Array<[Array<[string, string]>]> = [
        [
          [
            ['Authorization', `Bearer ${VALID}`],
            ['Authorization', ''],
          ],
        ],
        [
          [
            ['Authorization', ''],
            ['Authorization', `Bearer ${VALID}`],
          ],
        ],
        [
          [
            ['Authorization', ''],
            ['Authorization', ''],
          ],
        ],
        [
          [
            ['Authorization', `Bearer ${VALID}`],
            ['Authorization', '@@'],
          ],
        ],
        [[['Authorization', `Bearer ${VALID}\xa0`]]],
        [[['Authorization', `\xa0Bearer ${VALID}`]]],
      ];
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            authorizationLine.map((line) => [line]),
            fc.array(authorizationLine, { maxLength: 3 }),
          ),
          async (lines) => {
            await check(
              'header',
              { target: '/protected', headers: lines },
              expectAuthorization(
                lines.map(([, value]) => value),
                VALID,
              ),
            );
          },
        ),
        runs(NUM_RUNS.header, knownCases),
      );
    },
    TIMEOUT,
  );

  it(
    'answers arbitrary cookies and query strings (with and without a header) per the contract, alike everywhere',
    async () => {
      const knownCases: Array<[LocationsInput]> = [
        [{ authorization: [], cookies: [`${NAME}=${VALID}\xa0`], query: '' }],
        [{ authorization: [], cookies: [`${NAME}=${VALID}`, 'theme=dark'], query: '' }],
        [{ authorization: [], cookies: ['theme=dark', `${NAME}=${VALID}`], query: `${NAME}=` }],
      ];
      await fc.assert(
        fc.asyncProperty(locationsInput, async (input) => {
          const request: RawRequest = {
            target: input.query === '' ? '/protected' : `/protected?${input.query}`,
            headers: [...input.authorization.map((v) => ['Authorization', v] as const), ...input.cookies.map((v) => ['Cookie', v] as const)],
          };
          await check('locations', request, expectLocations(input, NAME, VALID));
        }),
        runs(NUM_RUNS.locations, knownCases),
      );
    },
    TIMEOUT,
  );

  it(
    'answers token-shaped strings with 401 invalid_token (or 200 when one is correctly signed and its claims hold), alike everywhere',
    async () => {
      await fc.assert(
        fc.asyncProperty(shapedToken, async ({ token, signed }) => {
          const expected: Expected = !B64TOKEN.test(token)
            ? { kind: 'code', code: 'malformed_header' }
            : signed
              ? { kind: 'ok-or-401' }
              : { kind: 'status', status: 401 };
          await check('header', { target: '/protected', headers: [['Authorization', `Bearer ${token}`]] }, expected, token);
        }),
        runs(NUM_RUNS.shaped),
      );
    },
    TIMEOUT,
  );

  it(
    'never accepts a valid token with one bit flipped or one character changed, and answers alike everywhere',
    async () => {
      await fc.assert(
        fc.asyncProperty(mutation, async (m) => {
          const changed = mutate(VALID, m);
          fc.pre(changed !== VALID);
          await check('header', { target: '/protected', headers: [['Authorization', `Bearer ${changed}`]] }, expectAuthorization([`Bearer ${changed}`], VALID));
        }),
        runs<[Mutation]>(NUM_RUNS.mutated, [[{ kind: 'respell', segment: 2, pick: 0 }]]),
      );
    },
    TIMEOUT,
  );
});
