import type { Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { urlFor, type Config } from './config.js';

/** A whole request (headers and body) must arrive within this time; `/api/slow` waits at most 10 s. */
export const REQUEST_TIMEOUT_MS = 30_000;
/** The request headers must arrive within this time. */
export const HEADERS_TIMEOUT_MS = 10_000;
/**
 * How long an idle keep-alive connection stays open. Longer than nginx's upstream
 * `keepalive_timeout` (60 s by default), so that nginx, not this server, closes idle connections
 * and never sends a request down a connection this server is closing.
 */
export const KEEP_ALIVE_TIMEOUT_MS = 65_000;

/**
 * Runs `server` the production way: timeouts set, one `listening on http://HOST:PORT` line on
 * stdout, exit 1 when it cannot listen, and graceful shutdown on SIGTERM/SIGINT: stop accepting
 * connections, close idle keep-alive connections, let in-flight requests finish and exit 0, or
 * exit 1 once `config.shutdownTimeoutMs` has passed with requests still running.
 */
export function serve(server: Server, config: Config): void {
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;

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
