import { trimOws } from './field-value.js';
import { headerValues, type RequestLike } from './request.js';

/** Every value the request's `Cookie` headers give the cookie `name`, in order. */
export function cookieValues(request: RequestLike, name: string): string[] {
  const values: string[] = [];
  for (const header of headerValues(request, 'cookie')) {
    for (const pair of header.split(';')) {
      const eq = pair.indexOf('=');
      // OWS only: String#trim would also drop NBSP, so `token=<jwt>\xa0` would read as `<jwt>`.
      if (eq === -1 || trimOws(pair.slice(0, eq)) !== name) continue;
      let value = trimOws(pair.slice(eq + 1));
      if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
      if (value !== '') values.push(value);
    }
  }
  return values;
}

/** The value of cookie `name`, or `undefined` when it is absent or sent more than once. */
export function readCookie(request: RequestLike, name: string): string | undefined {
  const values = cookieValues(request, name);
  return values.length === 1 ? values[0] : undefined;
}
