/**
 * Builds an error without a stack trace. A refused token is the expected outcome of a request,
 * not a bug: collecting the stack (tens of microseconds, taken for every forged or expired token
 * a server is sent) buys nothing, since the error is answered, not logged with its frames.
 * `Error.stackTraceLimit` is V8's (Node, Deno, Workers) and JavaScriptCore's (Bun) switch; where
 * it does not exist, setting it changes nothing.
 */
export function withoutStack<T>(make: () => T): T {
  const ErrorConstructor = Error as { stackTraceLimit?: number };
  const limit = ErrorConstructor.stackTraceLimit;
  ErrorConstructor.stackTraceLimit = 0;
  try {
    return make();
  } finally {
    ErrorConstructor.stackTraceLimit = limit;
  }
}
