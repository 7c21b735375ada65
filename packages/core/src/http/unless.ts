import { canonicalPathOf, compilePath, type PathMatcher } from './path-match.js';
import type { RequestLike } from './request.js';

/**
 * One excluded path: an exact path (`"/health"`), a glob (`"/public/**"`, `"/assets/*.css"`: `*`
 * is one or more characters within a segment, `**` any number of segments), a RegExp tested
 * against the path, or either of them limited to some methods.
 */
export type UnlessPath =
  | string
  | RegExp
  | {
      /** The path: exact, a glob, or a RegExp. */
      url: string | RegExp;
      /** The methods (any case) the path is skipped for; all when unset. */
      method?: string | readonly string[];
    };

/**
 * Requests that skip authentication (the `unless` of express-unless and koa-unless): a request
 * is skipped when any of the three matches.
 *
 * @typeParam Request - the framework's request object, passed to `custom`.
 */
export interface UnlessOptions<Request = unknown> {
  /**
   * Paths to skip, matched against the canonical path of the full request URL (query ignored,
   * case-sensitive, no trailing-slash folding); a request whose path is not canonical is never
   * skipped.
   */
  path?: UnlessPath | readonly UnlessPath[];
  /** Methods to skip on every path, for example `"OPTIONS"`. */
  method?: string | readonly string[];
  /** Skips the request when it returns (or resolves to) `true`; what it throws goes to the error path. */
  // Method syntax on purpose: options typed with a narrower Request stay assignable.
  custom?(request: Request): boolean | Promise<boolean>;
}

/**
 * The `unless` option: the object form, or one predicate over the framework's request that skips
 * the request when it returns (or resolves to) `true`.
 */
// Declared as a method and read back, so that it is bivariant in Request as `getToken` is: options
// typed for one framework's request stay assignable to the framework-neutral ones.
export type Unless<Request = unknown> =
  | UnlessOptions<Request>
  | {
      /** Skips the request when it returns (or resolves to) `true`; what it throws goes to the error path. */
      skip(request: Request): boolean | Promise<boolean>;
    }['skip'];

/** Decides, per request, whether authentication is skipped. */
export type UnlessCheck<Request> = (input: RequestLike, request: Request) => boolean | Promise<boolean>;

const UNLESS_KEYS: ReadonlyMap<string, string | undefined> = new Map([
  ['path', undefined],
  ['method', undefined],
  ['custom', undefined],
  ['methods', '; did you mean "method"?'],
  ['ext', '; match extensions with a glob such as "/**/*.css".'],
  ['useOriginalUrl', ': paths are always matched on the full original URL (before any mount prefix was removed).'],
]);
const PATH_KEYS = new Set(['url', 'method']);
/** RFC 9110 `token`. */
const METHOD = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function methodList(value: unknown, at: string, fail: (message: string) => never): ReadonlySet<string> {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0 || !list.every((method) => typeof method === 'string' && METHOD.test(method))) {
    fail(`${at} must be a method name such as "OPTIONS", or a non-empty array of them.`);
  }
  // Node and Fetch hand over methods in upper case; a request method is compared as it is.
  return new Set(list.map((method: string) => method.toUpperCase()));
}

/** One compiled entry of `path`: the pattern, and the methods it is limited to. */
interface PathRule {
  matches: PathMatcher;
  methods: ReadonlySet<string> | undefined;
}

function pathRule(entry: unknown, at: string, fail: (message: string) => never): PathRule {
  const compile = (pattern: unknown, where: string) => {
    try {
      return compilePath(pattern, where);
    } catch (error) {
      return fail((error as Error).message);
    }
  };
  if (typeof entry !== 'object' || entry === null || entry instanceof RegExp) return { matches: compile(entry, `"${at}"`), methods: undefined };
  for (const key of Object.keys(entry)) {
    if (!PATH_KEYS.has(key)) fail(`unknown key "${key}" in "${at}"${key === 'methods' ? '; did you mean "method"?' : ': give { url, method }.'}`);
  }
  const { url, method } = entry as { url?: unknown; method?: unknown };
  return {
    matches: compile(url, `"${at}.url"`),
    methods: method === undefined ? undefined : methodList(method, `"${at}.method"`, fail),
  };
}

/**
 * Checks the `unless` option once, at creation, and compiles it; `undefined` when it is not set.
 * Throws (through `fail`) what to fix.
 */
export function compileUnless<Request>(value: unknown, fail: (message: string) => never): UnlessCheck<Request> | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'function') {
    const predicate = value as (request: Request) => unknown;
    return async (_input, request) => (await predicate(request)) === true;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof RegExp) {
    fail('"unless" must be { path, method, custom } or a function (request) => boolean.');
  }
  for (const key of Object.keys(value)) {
    if (!UNLESS_KEYS.has(key)) fail(`unknown key "${key}" in "unless": give path, method or custom.`);
    const hint = UNLESS_KEYS.get(key);
    if (hint !== undefined) fail(`"unless" has no "${key}" option${hint}`);
  }
  const options = value as { path?: unknown; method?: unknown; custom?: unknown };
  if (options.path === undefined && options.method === undefined && options.custom === undefined) {
    fail('"unless" skips nothing: give path, method or custom.');
  }
  const entries = Array.isArray(options.path) ? options.path : options.path === undefined ? [] : [options.path];
  if (Array.isArray(options.path) && entries.length === 0) fail('"unless.path" is an empty array: name at least one path.');
  const rules = entries.map((entry, index) => pathRule(entry, Array.isArray(options.path) ? `unless.path[${index}]` : 'unless.path', fail));
  const methods = options.method === undefined ? undefined : methodList(options.method, '"unless.method"', fail);
  if (options.custom !== undefined && typeof options.custom !== 'function') fail('"unless.custom" must be a function (request) => boolean.');
  const custom = options.custom as ((request: Request) => unknown) | undefined;

  return (input, request) => {
    const method = input.method ?? '';
    if (methods?.has(method)) return true;
    if (rules.length > 0) {
      const path = canonicalPathOf(input.url);
      if (path !== undefined && rules.some((rule) => (rule.methods === undefined || rule.methods.has(method)) && rule.matches(path))) return true;
    }
    if (custom === undefined) return false;
    return Promise.resolve(custom(request)).then((skip) => skip === true);
  };
}
