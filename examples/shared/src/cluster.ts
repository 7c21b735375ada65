import cluster, { type Worker } from 'node:cluster';
import { urlFor, type Config } from './config.js';
import type { Logger } from './log.js';

/** A worker that dies on its own is replaced after this long (so a crash loop does not spin). */
export const RESPAWN_DELAY_MS = 1000;

/**
 * The node:cluster primary of `WORKERS=N`: forks N workers that run the server and share its port
 * (the primary accepts the connections and hands them out in turn), and serves no request itself.
 *
 * - It prints `listening on http://HOST:PORT` once all N listen, and exits 1 if one cannot start.
 * - A worker that dies is logged and replaced after {@link RESPAWN_DELAY_MS}.
 * - SIGHUP restarts the workers one at a time, with no request lost: a new worker is forked and
 *   listening before the one it replaces is sent SIGTERM and drains (new code is loaded, the
 *   primary keeps the port open throughout). A `workers.reloaded` log line says when the old workers
 *   have all exited (every answer then comes from new ones); a SIGHUP before then is ignored, with
 *   a warning.
 * - SIGTERM/SIGINT are passed on to every worker as SIGTERM (each drains, see `serve()`); the
 *   primary exits once they all have, 0 if they all exited 0.
 *
 * Every worker gets the primary's `JWT_SECRET`, including a random one made for this run, so
 * that they all sign and verify with the same key; `REDIS_URL` (required with more than one
 * worker) gives them the same revocations.
 */
export function superviseWorkers(config: Config, logger: Logger): void {
  const env = { JWT_SECRET: config.secret };
  /** All N first workers listen. */
  let started = false;
  let stopping = false;
  /** Workers serving, or starting to; one replaced or told to stop is no longer in it. */
  const serving = new Set<Worker>();

  /** Forks a worker; resolves to the port it listens on, or `undefined` if it exits first. */
  function fork(): Promise<number | undefined> {
    const worker = cluster.fork(env);
    serving.add(worker);
    return new Promise((resolve) => {
      worker.once('listening', (address) => resolve(address.port));
      worker.once('exit', () => resolve(undefined));
    });
  }

  cluster.on('exit', (worker, code, signal) => {
    const replaced = !serving.delete(worker);
    if (stopping || replaced) return;
    logger.error({ type: 'worker.exit', pid: worker.process.pid, code, signal }, 'worker exited unexpectedly');
    // One that cannot start (the port is taken…): the others would not do better.
    if (!started) return stop('SIGTERM');
    setTimeout(() => {
      if (!stopping && serving.size < config.workers) void fork();
    }, RESPAWN_DELAY_MS);
  });

  void Promise.all(Array.from({ length: config.workers }, fork)).then(([port]) => {
    if (stopping || port === undefined || serving.size < config.workers) return;
    started = true;
    console.log(`listening on ${urlFor(config.host, port)}`);
  });

  /** A SIGHUP reload is under way (another SIGHUP meanwhile is ignored). */
  let reloading = false;

  async function reload(): Promise<void> {
    if (reloading) logger.warn({ type: 'workers.reload', ignored: true }, 'SIGHUP ignored: a restart of the workers is under way');
    if (stopping || !started || reloading) return;
    reloading = true;
    logger.info({ type: 'workers.reload', workers: serving.size }, 'restarting the workers one at a time');
    try {
      const drained: Promise<unknown>[] = [];
      for (const old of [...serving]) {
        if ((await fork()) === undefined) {
          logger.error({ type: 'workers.reload' }, 'a new worker did not start: the remaining old ones keep serving');
          return;
        }
        if (stopping) return;
        // Listening before the old one stops: the port always has a worker to go to.
        serving.delete(old);
        drained.push(new Promise((resolve) => (old.isDead() ? resolve(undefined) : old.once('exit', resolve))));
        old.process.kill('SIGTERM');
      }
      // Once the old workers are gone, every answer comes from the new code and configuration:
      // what a two-step key rotation waits for before its second step.
      await Promise.all(drained);
      if (!stopping) logger.info({ type: 'workers.reloaded', workers: serving.size }, 'every worker restarted; the old ones have exited');
    } finally {
      reloading = false;
    }
  }

  function stop(signal: NodeJS.Signals): void {
    if (stopping) return;
    stopping = true;
    const workers = Object.values(cluster.workers ?? {}).filter((worker): worker is Worker => worker !== undefined && !worker.isDead());
    logger.info({ type: 'shutdown', signal, workers: workers.length }, 'stopping the workers');
    let failed = !started;
    let left = workers.length;
    if (left === 0) process.exit(failed ? 1 : 0);
    for (const worker of workers) {
      worker.once('exit', (code) => {
        if (code !== 0) failed = true;
        if (--left === 0) process.exit(failed ? 1 : 0);
      });
      worker.process.kill('SIGTERM');
    }
  }
  process.on('SIGHUP', () => void reload());
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
