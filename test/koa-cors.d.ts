// @koa/cors 5 ships no types and @types/koa__cors is not a dependency of this suite: the part of
// its API the CORS tests use, as its source (index.js) defines it.
declare module '@koa/cors' {
  import type { Context, Middleware } from 'koa';

  namespace cors {
    interface Options {
      /** `Access-Control-Allow-Origin`; default `*`. */
      origin?: string | ((ctx: Context) => string | Promise<string>);
      /** `Access-Control-Allow-Methods`; default `GET,HEAD,PUT,POST,DELETE,PATCH`. */
      allowMethods?: string | string[];
      /** `Access-Control-Allow-Headers`; default: the preflight's `Access-Control-Request-Headers`. */
      allowHeaders?: string | string[];
      /** `Access-Control-Expose-Headers`. */
      exposeHeaders?: string | string[];
      /** `Access-Control-Max-Age`, in seconds. */
      maxAge?: number | string;
      /** `Access-Control-Allow-Credentials`. */
      credentials?: boolean | ((ctx: Context) => boolean | Promise<boolean>);
      /** Copy the CORS headers onto an error thrown downstream; default `true`. */
      keepHeadersOnError?: boolean;
    }
  }
  function cors(options?: cors.Options): Middleware;
  export = cors;
}
