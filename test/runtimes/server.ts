/**
 * The server a runtime test starts in Bun (`bun server.ts`) or Deno (`deno run server.ts`): reads
 * its {@link RuntimeConfig} from the `JWTAUTH_RUNTIME_CONFIG` environment variable, serves each app
 * on its own loopback port with the runtime's own server (Bun.serve, Deno.serve), prints one
 * {@link Ready} line on stdout, then one JSON line per thing it was asked to report.
 *
 * The scenarios are test/cases.ts's own, picked by name: the options are built here, by the same
 * `options(keys)` functions the Node conformance suite calls, so hooks and closures are the same.
 */
import process from 'node:process';
import { scenarios } from '../cases.js';
import { conformanceApp, issuerApp, permissionApp, type FetchHandler } from './apps.js';
import { receiveKeys, type SharedKeys } from './shared-keys.js';

/** What the test asks the runtime to serve. */
export type RuntimeConfig = { mode: 'conformance'; scenarios: string[]; keys: SharedKeys } | { mode: 'permission'; jwksUri: string; port: number };

/** The first line printed: the port of each scenario's app (and of the issuer app), or of the permission app. */
export interface Ready {
  ports: Record<string, number>;
  /** `bun 1.x` or `deno 2.x`: which runtime answered. */
  runtime: string;
  /** Where `@jwtauth/hono`, `@jwtauth/core` and `@jwtauth/issuer` were loaded from (their `dist`). */
  resolved: Record<string, string>;
}

interface BunGlobal {
  version: string;
  serve(options: { fetch: FetchHandler; port: number; hostname: string }): { port: number };
}
interface DenoGlobal {
  version: { deno: string };
  serve(options: { port: number; hostname: string; onListen(addr: { port: number }): void }, handler: FetchHandler): unknown;
}

/** Serves `handler` on 127.0.0.1:`port` (0: any free port) the runtime's own way; resolves with the port. */
function serve(handler: FetchHandler, port = 0): Promise<number> {
  const { Bun, Deno } = globalThis as { Bun?: BunGlobal; Deno?: DenoGlobal };
  if (Bun !== undefined) return Promise.resolve(Bun.serve({ fetch: handler, port, hostname: '127.0.0.1' }).port);
  if (Deno !== undefined) return new Promise((resolve) => Deno.serve({ port, hostname: '127.0.0.1', onListen: (addr) => resolve(addr.port) }, handler));
  throw new Error('server.ts runs in Bun or Deno');
}

const print = (line: unknown) => console.log(JSON.stringify(line));

const config = JSON.parse(process.env.JWTAUTH_RUNTIME_CONFIG ?? 'null') as RuntimeConfig | null;
if (config === null) throw new Error('JWTAUTH_RUNTIME_CONFIG is not set');

const ports: Record<string, number> = {};
if (config.mode === 'conformance') {
  const keys = await receiveKeys(config.keys);
  for (const name of config.scenarios) {
    const scenario = scenarios.find((s) => s.name === name);
    if (scenario === undefined) throw new Error(`no scenario named ${JSON.stringify(name)} in test/cases.ts`);
    ports[name] = await serve(conformanceApp(scenario.options(keys)));
  }
  ports.issuer = await serve(issuerApp(config.keys.edNode.privateKey));
} else {
  ports.permission = await serve(permissionApp(config.jwksUri, print), config.port);
}
const { Bun, Deno } = globalThis as { Bun?: BunGlobal; Deno?: DenoGlobal };
const runtime = Bun !== undefined ? `bun ${Bun.version}` : `deno ${Deno?.version.deno}`;
const resolved = Object.fromEntries(['@jwtauth/hono', '@jwtauth/core', '@jwtauth/issuer'].map((name) => [name, import.meta.resolve(name)]));
print({ ports, runtime, resolved } satisfies Ready);
