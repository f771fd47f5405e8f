// Error classes shared by every component. Each has a stable `code`; the one
// place that maps codes to gRPC status codes is common/grpc-status.ts.

/** The stable codes of {@link MesosError}s. */
export type ErrorCode =
  | 'INVALID_ARGUMENT'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'FAILED_PRECONDITION'
  | 'PERMISSION_DENIED'
  | 'UNAUTHENTICATED'
  | 'UNAVAILABLE'
  | 'INTERNAL';

/** The base of every error mesos-ts raises: `name` is the class, `code` is stable (and maps to one gRPC status), `cause` the underlying error if any. */
export class MesosError extends Error {
  override readonly name: string = 'MesosError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A call or flag that is malformed: nothing was changed. */
export class InvalidArgument extends MesosError {
  override readonly name = 'InvalidArgument';
  constructor(message: string, options?: { cause?: unknown }) {
    super('INVALID_ARGUMENT', message, options);
  }
}

/** The thing named (a framework, agent, task, ...) is not known. */
export class NotFound extends MesosError {
  override readonly name = 'NotFound';
  constructor(message: string, options?: { cause?: unknown }) {
    super('NOT_FOUND', message, options);
  }
}

/** The call is well formed but the state does not allow it (e.g. not subscribed). */
export class FailedPrecondition extends MesosError {
  override readonly name = 'FailedPrecondition';
  constructor(message: string, options?: { cause?: unknown }) {
    super('FAILED_PRECONDITION', message, options);
  }
}

/** The caller is not allowed to do this (a PERMISSION_DENIED answer). */
export class PermissionDenied extends MesosError {
  override readonly name = 'PermissionDenied';
  constructor(message: string, options?: { cause?: unknown }) {
    super('PERMISSION_DENIED', message, options);
  }
}

/** The caller gave no credentials, or wrong ones (an UNAUTHENTICATED answer; HTTP 401). */
export class Unauthenticated extends MesosError {
  override readonly name = 'Unauthenticated';
  constructor(message: string, options?: { cause?: unknown }) {
    super('UNAUTHENTICATED', message, options);
  }
}

/** Not the leader, no leader, or shutting down: try again elsewhere or later. */
export class Unavailable extends MesosError {
  override readonly name = 'Unavailable';
  constructor(message: string, options?: { cause?: unknown }) {
    super('UNAVAILABLE', message, options);
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
