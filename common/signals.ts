// The long-running commands (master, agent) stop on SIGINT or SIGTERM.

/** Resolves with the name of the first SIGINT or SIGTERM this process receives. */
export function shutdownSignal(): Promise<'SIGINT' | 'SIGTERM'> {
  return new Promise((done) => {
    process.once('SIGINT', () => done('SIGINT'));
    process.once('SIGTERM', () => done('SIGTERM'));
  });
}
