import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scenarios, type Expect, type Send } from './cases.js';
import { makeKeys, type Keys } from './fixtures.js';
import { harnesses, type Harness, type RunningServer } from './harness/index.js';
import { headersOf } from './harness/types.js';

/** What a client can observe; compared across frameworks at the end. */
interface Observed {
  status: number;
  contentType: string | null;
  challenge: string | null;
  retryAfter: string | null;
  contentLength: string | null;
  dpopNonce: string | null;
  body: unknown;
}

let keys: Keys;
beforeAll(async () => {
  keys = await makeKeys();
});
afterAll(() => keys.close());

/** observed[scenario][case][framework] */
const observed = new Map<string, Map<string, Map<string, Observed>>>();

function record(scenario: string, name: string, framework: string, seen: Observed) {
  const byCase = observed.get(scenario) ?? new Map<string, Map<string, Observed>>();
  observed.set(scenario, byCase);
  const byFramework = byCase.get(name) ?? new Map<string, Observed>();
  byCase.set(name, byFramework);
  byFramework.set(framework, seen);
}

async function perform(harness: Harness, url: string, sent: Send): Promise<Observed> {
  const method = sent.method ?? 'GET';
  const path = sent.path ?? '/protected';
  const agent = request(url);
  let req = method === 'HEAD' ? agent.head(path) : method === 'OPTIONS' ? agent.options(path) : method === 'POST' ? agent.post(path) : agent.get(path);
  for (const [name, value] of Object.entries(await headersOf(harness, sent))) req = req.set(name, value as string);
  if (sent.body !== undefined) req = req.send(sent.body);
  const res = await req.buffer(true).parse((response, done) => {
    let text = '';
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => (text += chunk));
    response.on('end', () => done(null, text));
  });
  // superagent skips the parser for HEAD and leaves an empty object.
  const text = typeof res.body === 'string' ? res.body : '';
  return {
    status: res.status,
    contentType: res.headers['content-type'] ?? null,
    challenge: res.headers['www-authenticate'] ?? null,
    retryAfter: res.headers['retry-after'] ?? null,
    contentLength: res.headers['content-length'] ?? null,
    dpopNonce: res.headers['dpop-nonce'] ?? null,
    body: text === '' ? null : JSON.parse(text),
  };
}

describe.each(harnesses)('$name adapter', (harness) => {
  describe.each(scenarios)('$name', (scenario) => {
    let server: RunningServer;
    beforeAll(async () => {
      server = await harness.start(scenario.options(keys));
    });
    afterAll(() => server?.close());

    it.each(scenario.cases)('$name', async (testCase) => {
      const sent = await testCase.send(keys);
      const want: Expect = typeof testCase.expect === 'function' ? testCase.expect(sent, keys) : testCase.expect;
      const seen = await perform(harness, server.url, sent);
      record(scenario.name, testCase.name, harness.name, seen);

      expect(seen.status).toBe(want.status);
      expect(seen.body).toEqual(want.body);
      expect(seen.challenge).toBe(want.challenge);
      expect(seen.retryAfter).toBe(want.retryAfter ?? null);
      expect(seen.dpopNonce).toBe(want.dpopNonce ?? null);
      if (want.status >= 400 && !isForwarded(want.body)) {
        expect(seen.contentType).toBe('application/json');
        expect(seen.contentLength).toBe(want.contentLength);
      }
    });
  });
});

function isForwarded(body: unknown): boolean {
  return typeof body === 'object' && body !== null && 'forwarded' in body;
}

function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(shape);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, shape(inner)]));
  }
  return typeof value;
}

describe('every adapter answers identically', () => {
  it.each(scenarios)('$name', (scenario) => {
    const byCase = observed.get(scenario.name);
    expect(byCase?.size).toBe(scenario.cases.length);
    for (const [name, byFramework] of byCase!) {
      expect([...byFramework.keys()], name).toEqual(harnesses.map((h) => h.name));
      const [first, ...rest] = [...byFramework.values()];
      // Successful bodies echo tokens signed per request (ECDSA signatures are randomised),
      // so only their shape is compared; failures must match to the byte.
      // Forwarded errors are answered by each test app's own handler, whose Content-Type is the framework's.
      const comparable = (o: Observed) => {
        if (o.status < 400) return { ...o, contentType: null, contentLength: null, body: shape(o.body) };
        return isForwarded(o.body) ? { ...o, contentType: null, contentLength: null } : o;
      };
      for (const other of rest) expect(comparable(other), name).toEqual(comparable(first!));
    }
  });
});
