import cluster from 'node:cluster';
import type { Server, ServerOptions, ServerResponse } from 'node:http';
import type { AddressInfo, DropArgument, Socket } from 'node:net';
import { noteResponse } from './client-error.js';
import { urlFor, type Config } from './config.js';
import { startDraining } from './lifecycle.js';
import type { Logger } from './log.js';

/**
 * How long an idle keep-alive connection stays open. Longer than nginx's upstream
 * `keepalive_timeout` (60 s by default), so that nginx, not this server, closes idle connections
 * and never sends a request down a connection this server is closing.
 */
export const KEEP_ALIVE_TIMEOUT_MS = 65_000;

/**
 * At shutdown, a connection that has not sent a request yet is closed only once it has been open
 * this long: one accepted a moment ago most likely carries a request still on its way (in a
 * cluster, the primary hands connections to a worker until it stops listening), and closing it
 * would reset that request.
 */
export const FRESH_CONNECTION_GRACE_MS = 1000;

/**
 * How long a cluster worker lives on after its last connection closed. A connection the primary
 * handed over just before the worker stopped listening is still in the message pipe: the worker
 * must be alive to send it back (the primary then gives it to another worker), or the primary
 * keeps it open and the client waits for an answer that never comes.
 */
export const WORKER_EXIT_GRACE_MS = 250;

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
 * `config.maxConnections` connections, one `listening on http://HOST:PORT` line on stdout (printed
 * by the cluster primary when this process is one of its workers), exit 1 when it cannot listen,
 * and a graceful, draining shutdown on SIGTERM/SIGINT:
 *
 * 1. for `config.drainDelayMs` the server goes on accepting connections and answering, each answer
 *    with `Connection: close` and `/healthz` with 503, so that a proxy or load balancer still
 *    sending requests here gets answers (not resets) while it notices and moves to other instances;
 * 2. then it stops listening (nginx's next connection is refused, and `proxy_next_upstream` sends
 *    the request to another instance), closes idle connections, lets in-flight requests finish,
 *    runs `onClosed` (closing the Redis connection) and exits 0; or exits 1 once
 *    `config.shutdownTimeoutMs` has passed with requests still running.
 *
 * Closing the listener at once, as this function did before, reset every connection still waiting
 * in the kernel's accept queue: behind nginx, 84–97% of the requests in flight during a restart
 * under load became 503.
 */
export function serve(server: Server, config: Config, logger: Logger, onClosed: () => Promise<void> = async () => {}): void {
  // Each connection costs memory until its timeouts end it: past the cap, new ones are closed at once.
  server.maxConnections = config.maxConnections;
  server.on('drop', (connection?: DropArgument) => {
    logger.warn(
      { type: 'connection.dropped', remoteAddress: connection?.remoteAddress, maxConnections: config.maxConnections },
      'connection refused: too many open connections',
    );
  });

  /** SIGTERM/SIGINT came: answer with `Connection: close`. */
  let draining = false;
  /** The listener is closed: close every connection as soon as it is idle. */
  let closing = false;
  /** Requests in progress on each open connection. */
  const inFlight = new Map<Socket, number>();
  /** When each open connection was accepted. */
  const openedAt = new Map<Socket, number>();
  /** Responses not yet finished, to mark `Connection: close` when the drain begins. */
  const responses = new Set<ServerResponse>();
  server.on('connection', (socket: Socket) => {
    inFlight.set(socket, 0);
    openedAt.set(socket, Date.now());
    socket.once('close', () => {
      inFlight.delete(socket);
      openedAt.delete(socket);
    });
  });
  // Before the app sees a request: tell the client not to reuse the connection once draining.
  server.prependListener('request', (request, response) => {
    const socket = request.socket;
    inFlight.set(socket, (inFlight.get(socket) ?? 0) + 1);
    responses.add(response);
    noteResponse(socket, response);
    if (draining) response.setHeader('Connection', 'close');
    response.once('close', () => {
      responses.delete(response);
      inFlight.set(socket, Math.max(0, (inFlight.get(socket) ?? 1) - 1));
      // A keep-alive response that was in flight when the listener closed leaves an idle connection behind: close it.
      if (closing) setImmediate(closeIdle);
    });
  });

  /** A later closeIdle() is set for a fresh connection. */
  let recheck: NodeJS.Timeout | undefined;

  /**
   * Ends every connection with no request in progress: idle keep-alive ones, and also those that
   * opened but never sent (or never finished) a request, which closeIdleConnections() leaves open,
   * once they are older than {@link FRESH_CONNECTION_GRACE_MS}; a younger one is looked at again then.
   */
  function closeIdle(): void {
    server.closeIdleConnections();
    const now = Date.now();
    let youngest: number | undefined;
    for (const [socket, requests] of inFlight) {
      if (requests !== 0) continue;
      const opened = openedAt.get(socket) ?? 0;
      if (now - opened >= FRESH_CONNECTION_GRACE_MS) socket.destroy();
      else youngest = Math.max(youngest ?? opened, opened);
    }
    if (youngest !== undefined && recheck === undefined) {
      recheck = setTimeout(
        () => {
          recheck = undefined;
          closeIdle();
        },
        youngest + FRESH_CONNECTION_GRACE_MS - now,
      );
    }
  }

  server.on('error', (error) => {
    console.error(`error: cannot listen on ${config.host}:${config.port}: ${error.message}`);
    process.exit(1);
  });

  server.listen(config.port, config.host, () => {
    const { port } = server.address() as AddressInfo;
    // In a cluster the primary says it once, when all its workers listen.
    if (!cluster.isWorker) console.log(`listening on ${urlFor(config.host, port)}`);
  });

  function exit(code: number): void {
    // The store's connection is closed politely, but never holds the exit up for long.
    const bounded = new Promise<void>((resolve) => setTimeout(resolve, 1000).unref());
    const handedBack = new Promise<void>((resolve) => setTimeout(resolve, cluster.isWorker ? WORKER_EXIT_GRACE_MS : 0));
    // Fire and forget: the process ends in finally(), so there is nobody left to await it.
    void Promise.all([Promise.race([onClosed().catch(() => {}), bounded]), handedBack]).finally(() => process.exit(code));
  }

  function closeListener(): void {
    closing = true;
    const timer = setTimeout(() => {
      console.error(`error: requests still running after ${config.shutdownTimeoutMs} ms; closing their connections`);
      server.closeAllConnections();
      exit(1);
    }, config.shutdownTimeoutMs);
    server.close((error) => {
      clearTimeout(timer);
      if (error) console.error(`error: ${error.message}`);
      exit(error ? 1 : 0);
    });
    closeIdle();
  }

  function stop(signal: NodeJS.Signals): void {
    if (draining) return;
    draining = true;
    startDraining();
    // Answers already under way but not yet begun close their connection too.
    for (const response of responses) if (!response.headersSent) response.setHeader('Connection', 'close');
    logger.info({ type: 'shutdown', signal, drainDelayMs: config.drainDelayMs }, 'draining: answering with Connection: close, then closing the listener');
    setTimeout(closeListener, config.drainDelayMs);
  }
  // `once`: a second Ctrl-C falls back to Node's default and ends the process at once.
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  // SIGHUP (`systemctl reload`) restarts a cluster's workers; Node's default would end a single
  // process on the spot, in-flight requests and all.
  if (!cluster.isWorker) {
    process.on('SIGHUP', () => logger.warn({ type: 'reload' }, 'SIGHUP: nothing to reload in a single process (WORKERS=1)'));
  }
}
