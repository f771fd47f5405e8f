// A promise settled from outside: for a result that an event handler
// delivers later to whoever awaits it now.

export interface Deferred<T = void> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(reason: unknown): void;
}

/**
 * A rejection nobody awaits is not reported as unhandled (the owner reports
 * failures its own way); whoever awaits `promise` still sees it.
 */
export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  promise.catch(() => {});
  return { promise, resolve, reject };
}
