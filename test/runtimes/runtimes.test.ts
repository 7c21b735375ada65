/**
 * The conformance cases that apply to @jwtauth/hono and @jwtauth/core, run INSIDE Bun, Deno and
 * the Workers runtime (workerd, with and without nodejs_compat), all from the npm registry (see
 * test/package.json), against the built packages (packages/*\/dist, run `pnpm build` first):
 * server.ts serves each scenario's app with Bun.serve / Deno.serve, worker.ts the same apps in
 * workerd, and every case goes over real HTTP to Node's Hono (the same apps, from the sources)
 * and to each runtime. Each answer must be the case's expected one and the same as Node's.
 *
 * The cases are test/cases.ts's, picked by scenario name: every algorithm family (HS256/384/512,
 * RS256/512, PS256, ES256/512, EdDSA), every row of the error table, local and remote JWK Sets
 * (the key server runs here in Node; scenarios whose options() reconfigure it are Node-only),
 * discovery, hooks, guards and token sources; and @jwtauth/issuer logging in and refreshing
 * inside the runtime.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scenarios, type Expect, type Scenario } from '../cases.js';
import { makeKeys, type Keys } from '../fixtures.js';
import { serveFetch } from '../harness/listen.js';
import type { RunningServer } from '../harness/types.js';
import { conformanceApp, issuerApp } from './apps.js';
import { perform, type Observed } from './http.js';
import { shareKeys } from './shared-keys.js';
import { startRuntime, type RunningRuntime, type RuntimeName } from './spawn-runtime.js';
import { startWorkerd, type RunningWorkerd } from './workerd.js';

/** The scenarios of test/cases.ts that run in every runtime. */
const RUNTIME_SCENARIOS = [
  'HMAC secret with the derived allowlist',
  'explicit HS256-only allowlist',
  'RSA public key as PEM',
  'RSA-PSS public key as CryptoKey',
  'EC P-256 public key as JWK',
  'Ed25519 public key as KeyObject',
  'local JWK Set',
  'remote JWK Set on loopback',
  'remote JWK Set that is down',
  'remote JWK Set with every algorithm family',
  'remote JWK Set answering 500',
  'issuer discovery',
  'several issuers',
  'issuer, audience, typ and required claims',
  'clock tolerance and maximum age',
  'realm',
  'credentials not required',
  'cookie and query sources',
  'a signed token cookie (tokenFrom.cookie: { name, signed: true })',
  'a form body token (tokenFrom.body, RFC 6750 §2.2)',
  'isRevoked and resolveUser',
  'a revocation store that cannot answer',
  'forwardErrors',
  'passthrough',
  'a handler that changes its auth (verified-token cache on)',
  'DPoP allowed (RFC 9449): bound tokens with proofs, bearer tokens still accepted',
  'DPoP required: Bearer tokens are refused',
  'DPoP with server nonces (RFC 9449 §9)',
];

const RUNTIMES: RuntimeName[] = ['bun', 'deno'];
/** The Workers runtime, with and without the `nodejs_compat` flag (the packages need none). */
const WORKERS = ['workerd', 'workerd without nodejs_compat'] as const;
/** Where the cases go besides Node. */
const TARGETS = [...RUNTIMES, ...WORKERS] as const;
type Target = (typeof TARGETS)[number];

/** Scenarios whose options are node:crypto KeyObjects: a Worker without nodejs_compat has none to give. */
const NEEDS_NODE_CRYPTO = new Set(['Ed25519 public key as KeyObject']);
const runsOn = (target: Target, scenario: string) => target !== 'workerd without nodejs_compat' || !NEEDS_NODE_CRYPTO.has(scenario);

const picked: Scenario[] = RUNTIME_SCENARIOS.map((name) => {
  const scenario = scenarios.find((s) => s.name === name);
  if (scenario === undefined) throw new Error(`test/cases.ts has no scenario named ${JSON.stringify(name)}`);
  return scenario;
});

let keys: Keys;
const node = new Map<string, RunningServer>();
const runtimes = new Map<RuntimeName, RunningRuntime>();
let workerd: RunningWorkerd | undefined;

beforeAll(async () => {
  keys = await makeKeys();
  const shared = await shareKeys(keys);
  // The runtimes start while Node's servers do: each takes a second or two to load.
  const config = { mode: 'conformance', scenarios: RUNTIME_SCENARIOS, keys: shared } as const;
  const workers = WORKERS.map((name) => ({
    name,
    nodejsCompat: name === 'workerd',
    config: { ...config, scenarios: RUNTIME_SCENARIOS.filter((s) => runsOn(name, s)) },
  }));
  const started = Promise.all([
    ...RUNTIMES.map(async (runtime) => runtimes.set(runtime, await startRuntime(runtime, config))),
    startWorkerd(workers).then((running) => (workerd = running)),
  ]);
  // Awaited below; a runtime that fails to start while Node's servers start is not "unhandled".
  started.catch(() => undefined);
  for (const scenario of picked) node.set(scenario.name, await serveFetch(conformanceApp(scenario.options(keys))));
  node.set('issuer', await serveFetch(issuerApp(shared.edNode.privateKey)));
  await started;
}, 90000);

afterAll(async () => {
  await Promise.all([...node.values()].map((server) => server.close()));
  await Promise.all([...runtimes.values(), ...(workerd === undefined ? [] : [workerd])].map((runtime) => runtime.close()));
  await keys?.close();
});

const nodeUrl = (name: string) => node.get(name)!.url;
function runtimeUrl(target: Target, name: string): string {
  const ports = target === 'bun' || target === 'deno' ? runtimes.get(target)!.ports : workerd!.ports[target]!;
  return `http://127.0.0.1:${ports[name]}`;
}

/** As test/conformance.test.ts compares adapters: success bodies by shape (ECDSA signatures differ per token), failures to the byte. */
function comparable(o: Observed): Observed {
  const shape = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(shape);
    if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shape(v)]));
    return typeof value;
  };
  if (o.status < 400) return { ...o, contentType: null, contentLength: null, body: shape(o.body) };
  const forwarded = typeof o.body === 'object' && o.body !== null && 'forwarded' in o.body;
  return forwarded ? { ...o, contentType: null, contentLength: null } : o;
}

function expectCase(seen: Observed, want: Expect, where: string): void {
  expect(seen.status, where).toBe(want.status);
  expect(seen.body, where).toEqual(want.body);
  expect(seen.challenge, where).toBe(want.challenge);
  expect(seen.retryAfter, where).toBe(want.retryAfter ?? null);
  expect(seen.dpopNonce, where).toBe(want.dpopNonce ?? null);
  const forwarded = typeof want.body === 'object' && want.body !== null && 'forwarded' in want.body;
  if (want.status >= 400 && !forwarded) {
    expect(seen.contentType, where).toBe('application/json');
    expect(seen.contentLength, where).toBe(want.contentLength);
  }
}

describe('the runtimes under test', () => {
  it.each(RUNTIMES)('%s runs the built packages (packages/*/dist), not the sources', (runtime) => {
    const { runtime: version, resolved } = runtimes.get(runtime)!;
    expect(version).toMatch(new RegExp(`^${runtime} \\d+\\.\\d+\\.\\d+`));
    for (const name of ['hono', 'core', 'issuer']) expect(resolved[`@jwtauth/${name}`]).toMatch(new RegExp(`/packages/${name}/dist/index\\.js$`));
  });

  it.each(WORKERS)('%s runs a bundle of the built packages (packages/*/dist), not the sources', async (target) => {
    expect(workerd!.bundled.sort()).toEqual(['packages/core/dist/index.js', 'packages/hono/dist/index.js', 'packages/issuer/dist/index.js']);
    const answer = await fetch(runtimeUrl(target, 'runtime'));
    expect(await answer.json()).toEqual({ userAgent: 'Cloudflare-Workers' });
  });
});

describe.each(picked)('$name', (scenario) => {
  it.each(scenario.cases)('$name: Node, Bun, Deno and workerd answer alike', async (testCase) => {
    const sent = await testCase.send(keys);
    const want = typeof testCase.expect === 'function' ? testCase.expect(sent, keys) : testCase.expect;
    const seenByNode = await perform(nodeUrl(scenario.name), sent);
    expectCase(seenByNode, want, 'node');
    for (const runtime of TARGETS.filter((target) => runsOn(target, scenario.name))) {
      const seen = await perform(runtimeUrl(runtime, scenario.name), sent);
      expectCase(seen, want, runtime);
      expect(comparable(seen), `${runtime} answers as Node does`).toEqual(comparable(seenByNode));
    }
  });
});

describe('@jwtauth/issuer inside the runtime (EdDSA tokens signed there)', () => {
  const post = async (base: string, path: string, body: unknown) => {
    const response = await fetch(`${base}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    return { status: response.status, cacheControl: response.headers.get('cache-control'), body: (await response.json()) as Record<string, unknown> };
  };
  const hello = async (base: string, token: string) => {
    const response = await fetch(`${base}/api/hello`, { headers: { Authorization: `Bearer ${token}` } });
    return { status: response.status, body: (await response.json()) as unknown };
  };

  /**
   * Login, a call, a refresh, a call with the new token, the rotated-out refresh token replayed
   * (which revokes the whole session, RFC 9700 §4.14.2), a call after that, a refresh token used
   * as an access token, a wrong password: what each answer shows.
   */
  async function flow(base: string) {
    const login = await post(base, '/auth/token', { username: 'alice', password: 'alice-password' });
    const access = String(login.body.access_token);
    const header = JSON.parse(Buffer.from(access.split('.')[0]!, 'base64url').toString()) as Record<string, unknown>;
    const call = await hello(base, access);
    const refreshed = await post(base, '/auth/token/refresh', { refresh_token: login.body.refresh_token });
    const callWithRefreshed = await hello(base, String(refreshed.body.access_token));
    const refreshTokenAsAccess = await hello(base, String(refreshed.body.refresh_token));
    const replayed = await post(base, '/auth/token/refresh', { refresh_token: login.body.refresh_token });
    const afterReplay = await hello(base, String(refreshed.body.access_token));
    const wrong = await post(base, '/auth/token', { username: 'alice', password: 'wrong' });
    return {
      login: { status: login.status, cacheControl: login.cacheControl, fields: Object.keys(login.body).sort(), alg: header.alg, typ: header.typ },
      call,
      refresh: { status: refreshed.status, rotated: refreshed.body.refresh_token !== login.body.refresh_token },
      callWithRefreshed,
      refreshTokenAsAccess,
      replay: { status: replayed.status, error: replayed.body.error },
      afterReplay,
      wrongPassword: { status: wrong.status, code: wrong.body.code },
    };
  }

  it('logs in, refreshes with rotation, and a replay revokes the session, in Node, Bun, Deno and workerd alike', async () => {
    const inNode = await flow(nodeUrl('issuer'));
    expect(inNode).toEqual({
      login: {
        status: 200,
        cacheControl: 'no-store',
        fields: ['access_token', 'expires_in', 'refresh_expires_in', 'refresh_token', 'token_type'],
        alg: 'EdDSA',
        typ: 'at+jwt',
      },
      call: { status: 200, body: { sub: 'alice' } },
      refresh: { status: 200, rotated: true },
      callWithRefreshed: { status: 200, body: { sub: 'alice' } },
      refreshTokenAsAccess: { status: 401, body: expect.objectContaining({ code: 'wrong_token_type' }) },
      replay: { status: 401, error: 'invalid_token' },
      afterReplay: { status: 401, body: expect.objectContaining({ code: 'token_revoked' }) },
      wrongPassword: { status: 401, code: 'invalid_credentials' },
    });
    for (const runtime of TARGETS) expect(await flow(runtimeUrl(runtime, 'issuer')), runtime).toEqual(inNode);
  });
});
