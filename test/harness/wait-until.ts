// Polling for a condition that comes true by itself (a task runs, a
// framework disconnects), for integration tests where nothing announces it.
// Prefer waiting on an event where there is one (the clients' next()).

/** Resolves once `pred` holds, checking every 50 ms; rejects after `ms`, naming `what` was awaited. */
export async function waitUntil(pred: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
