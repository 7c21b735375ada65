/**
 * What a user hook threw, as an `Error`. Errors pass unchanged; anything else (`undefined`,
 * `null`, a string) is wrapped, because frameworks read some of those as "carry on" — Express
 * treats `next()`, `next(null)` and `next('route')` as success — and the request must fail closed.
 */
export function asError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  return new Error(`jwtAuth: a hook threw a non-Error value (${typeof thrown})`, { cause: thrown });
}
