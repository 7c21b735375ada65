/**
 * Whether this process is draining: it got SIGTERM/SIGINT and answers its last requests before it
 * stops listening (`serve()` in serve.ts). One flag per process, read by `/healthz`.
 */
let draining = false;

/** Marks the process as draining; from now on `/healthz` answers 503. */
export function startDraining(): void {
  draining = true;
}

/** Whether {@link startDraining} was called. */
export function isDraining(): boolean {
  return draining;
}
