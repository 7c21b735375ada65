/**
 * server.ts's counterpart for the Workers runtime (workerd): a module worker, bundled with esbuild
 * together with test/cases.ts, @jwtauth/hono, @jwtauth/core and @jwtauth/issuer (their `dist`),
 * that serves the same apps. workerd starts no code before the first request and has no process
 * environment, so the configuration is a text binding (`CONFIG`: a {@link RuntimeConfig} of mode
 * `conformance`), and each scenario's socket injects the `x-jwtauth-scenario` header naming the
 * app it is for. The app sees that header too: no case reads headers it does not name, and
 * rebuilding the request to drop it would refuse the GET-with-a-body case before the app ran.
 */
import { scenarios } from '../cases.js';
import { conformanceApp, issuerApp, SCENARIO_HEADER, type FetchHandler } from './apps.js';
import type { RuntimeConfig } from './server.js';
import { receiveKeys } from './shared-keys.js';

interface Env {
  CONFIG: string;
}

let apps: Promise<Map<string, FetchHandler>> | undefined;

async function build(env: Env): Promise<Map<string, FetchHandler>> {
  const config = JSON.parse(env.CONFIG) as Extract<RuntimeConfig, { mode: 'conformance' }>;
  const keys = await receiveKeys(config.keys);
  const built = new Map<string, FetchHandler>();
  for (const name of config.scenarios) {
    const scenario = scenarios.find((s) => s.name === name);
    if (scenario === undefined) throw new Error(`no scenario named ${JSON.stringify(name)} in test/cases.ts`);
    built.set(name, conformanceApp(scenario.options(keys)));
  }
  built.set('issuer', issuerApp(config.keys.edNode.privateKey));
  return built;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    // Built once per isolate, on the first request: the apps keep state between requests (key
    // sets, the token cache, the issuer's refresh tokens), as they do in Bun and Deno.
    apps ??= build(env);
    const name = decodeURIComponent(request.headers.get(SCENARIO_HEADER) ?? '');
    // Which runtime this is, for the test to check (workerd's navigator.userAgent).
    if (name === 'runtime') return Response.json({ userAgent: navigator.userAgent });
    const app = (await apps).get(name);
    if (app === undefined) return new Response(`no app for ${JSON.stringify(name)}`, { status: 404 });
    return app(request);
  },
};
