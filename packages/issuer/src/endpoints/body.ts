import type { EndpointAnswer } from '@jwtauth/core';
import { missingField } from './answer.js';

/** A parsed member, or the answer that refuses the request. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; answer: EndpointAnswer };

/** A body as the framework parsed it: a JSON object or a urlencoded form. */
export type BodyObject = Record<string, unknown>;

/**
 * Whether the framework's parsed body is a plain object (a JSON object, or a form as `qs` or
 * `URLSearchParams` → `Object.fromEntries` give it), or a null-prototype one: `Object.create(null)`,
 * or what @fastify/formbody's parser (fast-querystring) makes for speed, an object whose
 * prototype is an empty null-prototype object. Arrays, strings, bytes (a raw-body parser) and
 * class instances are refused: their members are not the client's fields. Fields are read as own
 * members only, so no prototype ever supplies one.
 */
export function isBodyObject(body: unknown): body is BodyObject {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return false;
  const prototype: unknown = Object.getPrototypeOf(body);
  if (prototype === Object.prototype || prototype === null) return true;
  return typeof prototype === 'object' && Object.getPrototypeOf(prototype) === null && Reflect.ownKeys(prototype).length === 0;
}

/**
 * Whether a `Content-Type` value names `application/json` (parameters such as `charset` allowed):
 * the one type an HTML form of another site cannot send without a CORS preflight.
 */
export function isJson(contentType: string | undefined): boolean {
  if (typeof contentType !== 'string') return false;
  const semicolon = contentType.indexOf(';');
  return (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase() === 'application/json';
}

/** An own string member of `body`; `undefined` when absent. Own only: `__proto__` or `toString` are never read. */
export function optionalString(body: BodyObject, name: string): Parsed<string | undefined> {
  const value = Object.hasOwn(body, name) ? body[name] : undefined;
  if (value === undefined || typeof value === 'string') return { ok: true, value };
  return { ok: false, answer: missingField(name, 'must be a string') };
}

/** An own, non-empty string member of `body`. */
export function requiredString(body: BodyObject, name: string): Parsed<string> {
  const value = Object.hasOwn(body, name) ? body[name] : undefined;
  if (typeof value === 'string' && value !== '') return { ok: true, value };
  return { ok: false, answer: missingField(name) };
}
