import { once } from 'node:events';
import { Server } from 'node:net';
import { pathToFileURL } from 'node:url';

// Runs one README snippet, compiled to an ES module, in a child process of
// test/readme-snippets.test.ts: `node readme-snippet-runner.js <snippet.js>`. The snippet runs as
// a user would run it with `node`, with three differences, installed before it is imported:
//
// - every `listen()` (Express `app.listen(3000)`, Koa, Fastify, @hono/node-server) is moved to an
//   ephemeral port on 127.0.0.1, so snippets can say `3000` and still run side by side;
// - `fetch` refuses every host but the loopback: a test never calls the internet, and a snippet
//   that would (a JWK Set of `auth.example.com` fetched at start-up) fails fast instead of hanging;
// - a default export with a `fetch` method (`export default app`, how Hono apps and Fetch handlers
//   are served by Bun, Deno and Cloudflare Workers) is served on Node with @hono/node-server.
//
// It then tells the parent over IPC `{ type: 'ready', ports }` once every server listens. A
// snippet with servers is probed over HTTP by the parent, which then sends `{ type: 'close' }`:
// the servers are closed and the process must exit by itself. A snippet that throws while it
// starts makes the import reject and the process exit with code 1.

const servers = new Set<Server>();
const listen = Server.prototype.listen;
Server.prototype.listen = function (this: Server, ...args: unknown[]): Server {
  servers.add(this);
  const callback = args.find((arg): arg is () => void => typeof arg === 'function');
  return listen.call(this, { port: 0, host: '127.0.0.1' }, callback);
} as typeof Server.prototype.listen;

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);
const realFetch = globalThis.fetch;
globalThis.fetch = (input, init) => {
  const url = new URL(input instanceof Request ? input.url : String(input));
  if (!LOOPBACK.has(url.hostname)) {
    return Promise.reject(new TypeError(`fetch failed: README snippets run without network access (${url.origin})`));
  }
  return realFetch(input, init);
};

const snippet = process.argv[2];
if (snippet === undefined) throw new TypeError('usage: readme-snippet-runner.js <snippet.js>');
const exports = (await import(pathToFileURL(snippet).href)) as { default?: unknown };

const handler = exports.default as { fetch?: unknown } | null | undefined;
if (typeof handler?.fetch === 'function') {
  const { serve } = await import('@hono/node-server');
  serve({ fetch: handler.fetch.bind(handler) as (request: Request) => Response | Promise<Response> });
}

// Servers told to listen during the import (Express's `app.listen` does not wait) bind now.
await new Promise((resolve) => setImmediate(resolve));
const ports: number[] = [];
for (const server of servers) {
  if (!server.listening) await once(server, 'listening');
  const address = server.address();
  if (address !== null && typeof address === 'object') ports.push(address.port);
}

function closeServers(): void {
  for (const server of servers) {
    server.close();
    (server as Server & { closeAllConnections?: () => void }).closeAllConnections?.();
  }
}

// Disconnecting lets the process exit as soon as the snippet's own work is done: a timer or
// socket it leaves behind keeps it alive, and the parent reports that.
process.send!({ type: 'ready', ports }, undefined, {}, () => {
  if (ports.length === 0) {
    process.disconnect();
    return;
  }
  process.once('message', () => {
    closeServers();
    process.disconnect();
  });
});
