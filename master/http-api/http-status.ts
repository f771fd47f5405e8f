// The one mapping between our error classes and HTTP status codes, for the
// master's HTTP APIs (as common/grpc-status.ts is for gRPC).
import { MesosError, type ErrorCode } from '../../common/errors.js';

const TO_HTTP: Record<ErrorCode, number> = {
  INVALID_ARGUMENT: 400,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  // Well formed, but the state does not allow it (e.g. MESSAGE to a task without an executor).
  FAILED_PRECONDITION: 409,
  PERMISSION_DENIED: 403,
  UNAVAILABLE: 503,
  INTERNAL: 500,
};

/** A refusal decided at the HTTP edge (wrong method, media type, size, stream id), with its status and any headers. */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

/** The status an error is answered with: its own for HttpError, the table's for our errors, 500 for anything else (a bug). */
export function httpStatusOf(err: unknown): number {
  if (err instanceof HttpError) return err.status;
  if (err instanceof MesosError) return TO_HTTP[err.code];
  return 500;
}
