/**
 * Request paths for the `unless` option: which paths count as canonical, and how a path pattern
 * (exact, glob or RegExp) matches one.
 *
 * Routers read an unusual path in different ways: Hono (through the WHATWG URL parser) resolves
 * `/public/../admin` to `/admin`, Express and Koa route it as sent (into `app.use('/public', …)`),
 * Fastify decodes `%61` and, in version 4, ends the path at `;`, Express matches without regard to
 * case. An exclusion may therefore only apply to a path that every one of them reads alike: one
 * already in the canonical form of WHATWG URL resolution and RFC 3986 §6.2.2 normalisation. Any
 * other path is authenticated, whatever the patterns say.
 */

/**
 * The characters of a canonical path: RFC 3986 `pchar` and `/`, without `;` (Fastify 4 ends the
 * path there), and `%` only as the start of an escape (checked by {@link ESCAPE}).
 */
const PATH_CHARACTERS = /^[A-Za-z0-9\-._~!$&'()*+,=:@/%]*$/;
/** Every `%`, with what follows it. */
const ESCAPE = /%(.{0,2})/gs;
/**
 * Escapes a canonical path never holds: unreserved characters (written plainly in canonical form,
 * RFC 3986 §6.2.2.2; Fastify and Hono decode them, Express does not), and `/`, `\` and `%`, which
 * some servers decode (a second time) into path structure.
 */
const REFUSED_ESCAPE = /^(?:[46][1-9A-F]|[57][0-9A]|3[0-9]|2[DEF5]|5[CF]|7E)$/;

/** `.` and `..` segments, which WHATWG URL resolution would remove. */
function hasDotSegment(path: string): boolean {
  return path.split('/').some((segment) => segment === '.' || segment === '..');
}

/**
 * Whether a path (no query) is canonical: it starts with `/`, has no dot segment, no `;`, no
 * character that must be percent-encoded, and only upper-case escapes of characters that are
 * neither unreserved nor `/`, `\` or `%`. Such a path is its own WHATWG-resolved, normalised form.
 */
export function isCanonicalPath(path: string): boolean {
  if (!path.startsWith('/') || !PATH_CHARACTERS.test(path) || hasDotSegment(path)) return false;
  for (const [, hex] of path.matchAll(ESCAPE)) {
    if (!/^[0-9A-F]{2}$/.test(hex!) || REFUSED_ESCAPE.test(hex!)) return false;
  }
  return true;
}

/**
 * The canonical path of a request URL (`/a/b?q` as Node has it, or `https://host/a/b?q` as a
 * Fetch `Request` or an absolute-form request target has it), without its query; `undefined` when
 * that path is not canonical (see {@link isCanonicalPath}) and so may never match an exclusion.
 */
export function canonicalPathOf(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  let path = url;
  if (!url.startsWith('/')) {
    // Absolute form: the path starts after the authority (`http://h` alone has the path `/`).
    const origin = /^https?:\/\/[^/?#\\]*/i.exec(url);
    if (origin === null) return undefined;
    path = url.slice(origin[0].length);
    if (!path.startsWith('/')) path = `/${path}`;
  }
  const end = path.search(/[?#]/);
  if (end !== -1) path = path.slice(0, end);
  return isCanonicalPath(path) ? path : undefined;
}

/**
 * The canonical form of a path a user wrote, for the error message that asks for it: WHATWG URL
 * resolution, then unreserved escapes decoded and the others upper-cased (RFC 3986 §6.2.2).
 */
export function suggestCanonical(path: string): string | undefined {
  let resolved: string;
  try {
    // Concatenated, not resolved against a base: `//x` must stay a path, not become a host.
    resolved = new URL(`http://localhost${path.replace(/\\/g, '/')}`).pathname;
  } catch {
    return undefined;
  }
  const normal = resolved.replace(/%([0-9A-Fa-f]{2})/g, (escape, hex: string) => {
    const char = String.fromCharCode(Number.parseInt(hex, 16));
    return /[A-Za-z0-9\-._~]/.test(char) ? char : escape.toUpperCase();
  });
  return isCanonicalPath(normal.replace(/\*/g, 'x')) ? normal : undefined;
}

/** A path pattern, compiled once. */
export type PathMatcher = (path: string) => boolean;

/** A `*` of a pattern: any number (none included) of the items it stands between. */
const STAR = Symbol('star');
/** Within a segment: exactly one character (a glob `*` is one of these and a {@link STAR}). */
const ANY = Symbol('any');

/**
 * Wildcard matching without backtracking blow-up: each item of `pattern` matches exactly one item
 * of `text` (by `matches`) except {@link STAR}, which matches any run of them. The classic greedy
 * algorithm, O(pattern × text) at worst, so an attacker's long path cannot make matching slow, as
 * a compiled RegExp with several wildcards could.
 */
function wildcard<P, T>(pattern: readonly (P | typeof STAR)[], text: readonly T[], matches: (item: P, against: T) => boolean): boolean {
  let p = 0;
  let t = 0;
  let star = -1;
  let resume = 0;
  while (t < text.length) {
    const item = pattern[p];
    if (item === STAR) {
      star = p++;
      resume = t;
    } else if (p < pattern.length && matches(item as P, text[t]!)) {
      p++;
      t++;
    } else if (star !== -1) {
      // Let the last star take one more item and try the rest again from there.
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (pattern[p] === STAR) p++;
  return p === pattern.length;
}

/**
 * Compiles a glob: `*` is one or more characters within a segment, a `**` segment any number of
 * whole segments (none included). Anything else matches itself, case-sensitively.
 */
function compileGlob(pattern: string): PathMatcher {
  type SegmentGlob = string | (string | typeof ANY | typeof STAR)[];
  const segments = pattern
    .slice(1)
    .split('/')
    // Consecutive `**` segments mean what one does.
    .filter((segment, index, all) => segment !== '**' || all[index - 1] !== '**')
    .map((segment): SegmentGlob | typeof STAR => {
      if (segment === '**') return STAR;
      if (!segment.includes('*')) return segment;
      return [...segment].flatMap((char): (string | typeof ANY | typeof STAR)[] => (char === '*' ? [ANY, STAR] : [char]));
    });
  const segmentMatches = (glob: SegmentGlob, segment: string) =>
    typeof glob === 'string' ? glob === segment : wildcard(glob, [...segment], (char, against) => char === ANY || char === against);
  return (path) => wildcard(segments, path.slice(1).split('/'), segmentMatches);
}

/**
 * Compiles one path pattern: a string is an exact path, or a glob when it holds `*`; a RegExp is
 * tested against the canonical path. Throws a message (the caller makes it a `TypeError`) for a
 * pattern that no canonical path could match.
 */
export function compilePath(pattern: unknown, at: string): PathMatcher {
  if (pattern instanceof RegExp) {
    // `g` and `y` make test() resume from lastIndex: the same path would match only every other time.
    const regexp = new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ''));
    return (path) => regexp.test(path);
  }
  if (typeof pattern !== 'string') throw new Error(`${at} must be a path string, a RegExp or { url, method }.`);
  if (!pattern.startsWith('/')) throw new Error(`${at} ${JSON.stringify(pattern)} must be a path starting with "/".`);
  if (/[?#]/.test(pattern)) throw new Error(`${at} ${JSON.stringify(pattern)} must be a path without a query or fragment: the query is not matched.`);
  if (pattern.split('/').some((segment) => segment.includes('**') && segment !== '**')) {
    throw new Error(`${at} ${JSON.stringify(pattern)}: "**" must be a whole segment ("/a/**"); "*" matches within one segment.`);
  }
  // `*` is a wildcard and counts as an ordinary path character for the canonical check.
  if (!isCanonicalPath(pattern.replace(/\*/g, 'x'))) {
    const suggestion = suggestCanonical(pattern);
    throw new Error(
      `${at} ${JSON.stringify(pattern)} is not a canonical path, so no request could match it ` +
        `(no "." or ".." segments, ";", "%2F", "%5C" or "%25", no escaped letters or digits, upper-case escapes, ` +
        `non-ASCII characters percent-encoded)${suggestion === undefined || suggestion === pattern ? '.' : `; write ${JSON.stringify(suggestion)}.`}`,
    );
  }
  return pattern.includes('*') ? compileGlob(pattern) : (path) => path === pattern;
}
