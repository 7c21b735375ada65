import { createHash } from 'node:crypto';

/** A Lua script, sent by SHA1 (`EVALSHA`) and in full (`EVAL`) only when Redis lost its script cache. */
export interface Script {
  readonly name: string;
  readonly source: string;
  readonly sha: string;
}

function script(name: string, source: string): Script {
  return { name, source, sha: createHash('sha1').update(source).digest('hex') };
}

/**
 * `revoke(id, expiresAt)`: marks `id` revoked until `ARGV[1]` (ms since the epoch), keeping the
 * later expiry when it is revoked twice, as `MemoryRevocationStore` does. The value is the expiry
 * itself, so comparing needs no second lookup.
 *
 * KEYS[1]: `<prefix>{<id>}:revoked`.
 */
export const REVOKE = script(
  'revoke',
  `local held = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
if tonumber(ARGV[1]) > held then
  redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[1])
end
return 1
`,
);

/**
 * `markUsed(key, expiresAt)`: one `SET KEYS[1] 1 NX EXAT ARGV[1]` (seconds since the epoch), run
 * as a script so that it takes the store's one path to Redis for both client libraries (the
 * timeout, `NOSCRIPT` fallback and error handling of `revoke`). Answers `1` when this call set the
 * key (the first use), `0` when it was already there (a use before, not yet expired).
 *
 * KEYS[1]: `<prefix>{<key>}:used`.
 */
export const MARK_USED = script(
  'markUsed',
  `if redis.call('SET', KEYS[1], '1', 'NX', 'EXAT', ARGV[1]) then return 1 end
return 0
`,
);

/**
 * `rotate(sid, generation, options)`, the decision table of `MemoryRevocationStore.rotate` in
 * one atomic step, so that two processes racing on one refresh token cannot both rotate it.
 * Both keys carry the hash tag `{<sid>}`: on a Cluster they live in one slot.
 *
 * KEYS[1]: `<prefix>{<sid>}:revoked`; KEYS[2]: `<prefix>{<sid>}:session`, the rotation state
 * `"<generation>:<rotatedAt>:<expiresAt>"` (seconds), expiring at `expiresAt`.
 * ARGV: generation, now (s), reuseInterval (s), expiresAt (s), expiresAt (ms), revokeOnReplay (1/0),
 * deadline (ms since the epoch).
 * Answers `{0}` revoked, `{1, generation}` rotated, `{2, generation}` reused, `{3}` replayed, and
 * `{4}` late: the script reached Redis after its deadline (it waited in a client's offline queue or
 * in a hung server's input), when the caller has long answered 503. Applying it then would move the
 * session on behind the user's back, and their retry, arriving later than the reuse interval,
 * would count as a replay and end the session; so a late rotation changes nothing.
 */
export const ROTATE = script(
  'rotate',
  `local clock = redis.call('TIME')
if tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000) > tonumber(ARGV[7]) then return {4} end
if redis.call('EXISTS', KEYS[1]) == 1 then return {0} end
local generation = tonumber(ARGV[1])
local now = tonumber(ARGV[2])
local reuse = tonumber(ARGV[3])
local current, rotatedAt = 0, nil
local state = redis.call('GET', KEYS[2])
if state then
  local g, t, e = string.match(state, '^([^:]+):([^:]+):([^:]+)$')
  if g and tonumber(g) and tonumber(t) and tonumber(e) and tonumber(e) > now then
    current = tonumber(g)
    rotatedAt = tonumber(t)
  end
end
if rotatedAt == nil and generation > 0 then return {0} end
if generation == current then
  redis.call('SET', KEYS[2], tostring(current + 1) .. ':' .. ARGV[2] .. ':' .. ARGV[4], 'PXAT', ARGV[5])
  return {1, current + 1}
end
if rotatedAt ~= nil and generation == current - 1 and reuse > 0 and now - rotatedAt <= reuse then
  return {2, current}
end
if ARGV[6] == '1' then
  redis.call('SET', KEYS[1], ARGV[5], 'PXAT', ARGV[5])
end
return {3}
`,
);
