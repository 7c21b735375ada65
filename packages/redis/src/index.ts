/**
 * A Redis RevocationStore for `@jwtauth`: revocations, logout and refresh rotation shared by every process (node-redis or ioredis).
 *
 * @packageDocumentation
 * @module @jwtauth/redis
 */
// @jwtauth/redis: a RevocationStore over the user's own Redis client (node-redis or ioredis), so
// that revocations, logouts and refresh rotation hold across every process of an app.
export { createRedisStore, DEFAULT_TIMEOUT } from './redis-store.js';
export type { RedisStore, RedisStoreOptions } from './redis-store.js';
export type { IoRedisClient, NodeRedisClient, RedisStoreClient } from './client.js';
