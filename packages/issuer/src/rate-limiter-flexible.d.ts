// rate-limiter-flexible's index also loads its cluster limiter (node:cluster, node:crypto), which
// runtimes other than Node lack; these two files are plain JavaScript, typed by the package's own
// declarations.
declare module 'rate-limiter-flexible/lib/RateLimiterMemory.js' {
  import type { RateLimiterMemory } from 'rate-limiter-flexible';
  const Memory: typeof RateLimiterMemory;
  export default Memory;
}

declare module 'rate-limiter-flexible/lib/RateLimiterRedis.js' {
  import type { RateLimiterRedis } from 'rate-limiter-flexible';
  const Redis: typeof RateLimiterRedis;
  export default Redis;
}
