import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * How the key server behaves:
 * - `ok`: answers the configured documents (404 for paths it has none for)
 * - `down`: not listening at all: connections are refused (global only)
 * - `hang`: accepts the request and never answers
 * - `500`: answers 500 with a JSON error body
 * - `invalid-json`: answers 200 `application/json` whose body is not JSON
 * - `empty`: answers 200 `{"keys": []}`
 */
export type KeyServerMode = 'ok' | 'down' | 'hang' | '500' | 'invalid-json' | 'empty';

/** A document the server answers on one path. */
export interface KeyServerDocument {
  status: number;
  body: unknown;
}

/** A real JWK Set (and metadata) server on 127.0.0.1 that tests control. */
export interface KeyServer {
  /** `http://127.0.0.1:PORT`, stable across `down` and back. */
  readonly url: string;
  /** `${url}/jwks.json`: where {@link KeyServer.setKeys} publishes by default. */
  readonly jwksUri: string;
  /** The global mode (per-path overrides aside). */
  readonly mode: KeyServerMode;
  /** Publishes a JWK Set (`{ keys }`, or the keys alone) on `path` (default `/jwks.json`): rotation. */
  setKeys(jwks: { keys: unknown[] } | unknown[], path?: string): void;
  /** Answers `body` as JSON with `status` (default 200) on `path`; `status: 404` with no body is a missing document. */
  setDocument(path: string, body: unknown, status?: number): void;
  /** Forgets the document on `path`: it answers 404 again. */
  removeDocument(path: string): void;
  /** Sets the mode for every path, or (not `down`) for one path only. Resolves once it is in effect. */
  setMode(mode: KeyServerMode, path?: string): Promise<void>;
  /** Delays every answer by `ms` (default 0), to widen concurrency windows. */
  setDelay(ms: number): void;
  /** Requests received on `path` (pathname, query ignored), or on every path when omitted. */
  count(path?: string): number;
  /** Zeroes the counters. */
  resetCounts(): void;
  /** Stops listening and destroys every connection, hanging ones included. */
  close(): Promise<void>;
}

/** Starts a key server on an ephemeral loopback port. Call it from `beforeAll`/a test, never at import. */
export async function startKeyServer(): Promise<KeyServer> {
  const documents = new Map<string, KeyServerDocument>();
  const pathModes = new Map<string, Exclude<KeyServerMode, 'down'>>();
  const counts = new Map<string, number>();
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let mode: KeyServerMode = 'ok';
  let delay = 0;
  let closed = false;

  function answer(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    counts.set(path, (counts.get(path) ?? 0) + 1);
    const effective = pathModes.get(path) ?? mode;
    const send = (): void => {
      if (res.destroyed) return;
      const json = (status: number, body: unknown): void => {
        res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
      };
      switch (effective) {
        case 'hang':
          return; // the socket stays open until the client gives up or close() destroys it
        case '500':
          return json(500, { error: 'server_error' });
        case 'invalid-json':
          res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"keys": [ {"kty": "RSA", ');
          return;
        case 'empty':
          return json(200, { keys: [] });
        default: {
          const document = documents.get(path);
          if (document === undefined) return json(404, { error: 'not_found' });
          if (document.body === undefined) res.writeHead(document.status).end();
          else json(document.status, document.body);
        }
      }
    };
    if (delay <= 0 || effective === 'hang') {
      send();
      return;
    }
    const timer = setTimeout(() => {
      timers.delete(timer);
      send();
    }, delay);
    timers.add(timer);
  }

  const server = createServer(answer);
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      if (!server.listening) {
        for (const socket of sockets) socket.destroy();
        resolve();
        return;
      }
      server.close(() => resolve());
      server.closeAllConnections();
      for (const socket of sockets) socket.destroy();
    });

  await listen(0);
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    jwksUri: `${url}/jwks.json`,
    get mode() {
      return mode;
    },
    setKeys(jwks, path = '/jwks.json') {
      documents.set(path, { status: 200, body: Array.isArray(jwks) ? { keys: jwks } : jwks });
    },
    setDocument(path, body, status = 200) {
      documents.set(path, { status, body });
    },
    removeDocument(path) {
      documents.delete(path);
    },
    async setMode(next, path) {
      if (closed) throw new Error('the key server is closed');
      if (path !== undefined) {
        if (next === 'down') throw new Error('"down" is a whole-server mode');
        if (next === 'ok') pathModes.delete(path);
        else pathModes.set(path, next);
        return;
      }
      const previous = mode;
      mode = next;
      if (next === 'down' && previous !== 'down') {
        await stop();
        // Let in-process clients see their pooled keep-alive sockets close, so that the next
        // request is refused at connect time rather than failing on a dead socket.
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      if (next !== 'down' && previous === 'down') await listen(port);
    },
    setDelay(ms) {
      delay = ms;
    },
    count(path) {
      if (path === undefined) return [...counts.values()].reduce((sum, n) => sum + n, 0);
      return counts.get(path) ?? 0;
    },
    resetCounts() {
      counts.clear();
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await stop();
    },
  };
}
