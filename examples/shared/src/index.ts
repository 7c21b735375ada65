export { badRequest, failure, json, notFound } from './answer.js';
export type { Answer, ExampleErrorCode } from './answer.js';
export { answerClientError, clientErrorAnswer } from './client-error.js';
export { RESPAWN_DELAY_MS, superviseWorkers } from './cluster.js';
export type { ConfigNeeds } from './config.js';
export {
  ConfigError,
  DEFAULT_DRAIN_DELAY_MS,
  DEFAULT_REUSE_INTERVAL,
  LOG_LEVELS,
  MIN_SECRET_LENGTH,
  loadConfig,
  loadConfigOrExit,
  orExit,
  urlFor,
} from './config.js';
export type { Config, LogLevel } from './config.js';
export { isDraining, startDraining } from './lifecycle.js';
export { logAuthEvents } from './log.js';
export type { Logger } from './log.js';
export { FORWARDED_HEADERS, isLoopback } from './proxy.js';
export { requestProblem } from './request-check.js';
export type { RequestHead } from './request-check.js';
export { FRESH_CONNECTION_GRACE_MS, KEEP_ALIVE_TIMEOUT_MS, MAX_HEADER_SIZE, WORKER_EXIT_GRACE_MS, serve, serverOptions } from './serve.js';
export { REDIS_PREFIX, REDIS_STARTUP_WAIT_MS, REDIS_TIMEOUT_MS, openStore, reconnectDelay, redactUrl } from './store.js';
export type { OpenedStore } from './store.js';
export type { RevocationStore } from '@jwtauth/core';
export { AUDIENCE, ISSUER, REFRESH_COOKIE, TOKEN_PATH, createExampleAuth, loginOptions } from './auth.js';
export type { ExampleAuth } from './auth.js';
export { checkCredentials, verifyPassword } from './users.js';
export type { PasswordHash, User } from './users.js';
