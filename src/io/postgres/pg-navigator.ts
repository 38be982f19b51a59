/**
 * Node 20 has no `navigator`. pg (8.16+) asks whether it runs on Cloudflare Workers when it
 * loads, and without `navigator.userAgent` it constructs a `Response` to find out — which loads
 * Node's whole fetch implementation (undici): ~0.03 CPU-s of every pipekit start, since each
 * run opens the run store. Node 21+ answers that from `navigator.userAgent`; this gives pg the
 * same answer while it loads (src/io/postgres/pg.ts imports it first), then takes it away again.
 */
const lent = typeof globalThis.navigator === 'undefined';
if (lent) Object.defineProperty(globalThis, 'navigator', { value: { userAgent: 'Node.js' }, configurable: true, writable: true });

/** Removes the `navigator` lent to pg, so nothing else sees a global Node 20 does not have. */
export function returnNavigator(): void {
  if (lent) delete (globalThis as { navigator?: unknown }).navigator;
}
