import type { Server, ServerOptions } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { noteResponse } from './client-error.js';
import { urlFor, type Config } from './config.js';
import type { Logger } from './log.js';

/**
 * How long an idle keep-alive connection stays open. Longer than nginx's upstream
 * `keepalive_timeout` (60 s by default), so that nginx, not this server, closes idle connections
 * and never sends a request down a connection this server is closing.
 */
export const KEEP_ALIVE_TIMEOUT_MS = 65_000;

/**
 * The largest request head (request line and headers) the servers read: room for the largest
 * token `@jwtauth/core` accepts (16 KiB) and the other headers. Node's default, 16 KiB, is less
 * than such a token's `Authorization` line alone.
 */
export const MAX_HEADER_SIZE = 64 * 1024;

/**
 * The options for `http.createServer()` (Express, Koa, Hono) or Fastify's `http` option. Some only
 * work there: Node checks connections against `headersTimeout` and `requestTimeout` every
 * `connectionsCheckingInterval` (30 s by default, which held a client that sends a header line a
 * second, or nothing at all, for up to 40 s), and reads that interval when the server is created.
 * `requireHostHeader` is off because `requestProblem()` (request-check.ts) refuses a missing
 * `Host` itself, with a JSON answer instead of Node's empty 400.
 */
export function serverOptions(config: Config): ServerOptions {
  return {
    headersTimeout: config.headersTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    connectionsCheckingInterval: Math.min(1000, config.headersTimeoutMs),
    maxHeaderSize: MAX_HEADER_SIZE,
    requireHostHeader: false,
  };
}

/**
 * Runs `server` (created with {@link serverOptions}) the production way: at most
 * `config.maxConnections` connections, one `listening on http://HOST:PORT` line on stdout, exit 1
 * when it cannot listen, and graceful shutdown on SIGTERM/SIGINT: stop accepting connections,
 * close idle keep-alive connections, let in-flight requests finish and exit 0, or exit 1 once
 * `config.shutdownTimeoutMs` has passed with requests still running.
 */
export function serve(server: Server, config: Config, logger: Logger): void {
  // Each connection costs memory until its timeouts end it: past the cap, new ones are closed at once.
  server.maxConnections = config.maxConnections;
  server.on('drop', (connection) => {
    logger.warn({ type: 'connection.dropped', remoteAddress: connection?.remoteAddress, maxConnections: config.maxConnections }, 'connection refused: too many open connections');
  });

  let stopping = false;
  /** Requests in progress on each open connection. */
  const inFlight = new Map<Socket, number>();
  server.on('connection', (socket: Socket) => {
    inFlight.set(socket, 0);
    socket.once('close', () => inFlight.delete(socket));
  });
  // Before the app sees a request that arrives while stopping: tell the client not to reuse the connection.
  server.prependListener('request', (request, response) => {
    const socket = request.socket;
    inFlight.set(socket, (inFlight.get(socket) ?? 0) + 1);
    noteResponse(socket, response);
    if (stopping) response.setHeader('Connection', 'close');
    response.once('close', () => {
      inFlight.set(socket, Math.max(0, (inFlight.get(socket) ?? 1) - 1));
      // A response that was in flight when the signal came leaves an idle connection behind: close it.
      if (stopping) setImmediate(closeIdle);
    });
  });

  /**
   * Ends every connection with no request in progress: idle keep-alive ones, and also those that
   * opened but never sent (or never finished) a request, which closeIdleConnections() leaves open.
   */
  function closeIdle(): void {
    server.closeIdleConnections();
    for (const [socket, requests] of inFlight) if (requests === 0) socket.destroy();
  }

  server.on('error', (error) => {
    console.error(`error: cannot listen on ${config.host}:${config.port}: ${error.message}`);
    process.exit(1);
  });

  server.listen(config.port, config.host, () => {
    const { port } = server.address() as AddressInfo;
    console.log(`listening on ${urlFor(config.host, port)}`);
  });

  function stop(): void {
    if (stopping) return;
    stopping = true;
    const timer = setTimeout(() => {
      console.error(`error: requests still running after ${config.shutdownTimeoutMs} ms; closing their connections`);
      server.closeAllConnections();
      process.exit(1);
    }, config.shutdownTimeoutMs);
    server.close((error) => {
      clearTimeout(timer);
      if (error) console.error(`error: ${error.message}`);
      process.exit(error ? 1 : 0);
    });
    closeIdle();
  }
  // `once`: a second Ctrl-C falls back to Node's default and ends the process at once.
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
