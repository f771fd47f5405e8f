// The one mapping between our error classes and gRPC status codes.
import { status as GrpcStatus, Metadata, type ServiceError } from '@grpc/grpc-js';
import { MesosError, type ErrorCode, InvalidArgument, NotFound, FailedPrecondition, PermissionDenied, Unauthenticated, Unavailable } from './errors.js';

const TO_GRPC: Record<ErrorCode, GrpcStatus> = {
  INVALID_ARGUMENT: GrpcStatus.INVALID_ARGUMENT,
  NOT_FOUND: GrpcStatus.NOT_FOUND,
  ALREADY_EXISTS: GrpcStatus.ALREADY_EXISTS,
  FAILED_PRECONDITION: GrpcStatus.FAILED_PRECONDITION,
  PERMISSION_DENIED: GrpcStatus.PERMISSION_DENIED,
  UNAUTHENTICATED: GrpcStatus.UNAUTHENTICATED,
  UNAVAILABLE: GrpcStatus.UNAVAILABLE,
  INTERNAL: GrpcStatus.INTERNAL,
};

export function toServiceError(err: unknown): Partial<ServiceError> {
  if (err instanceof MesosError) return { code: TO_GRPC[err.code], details: err.message, metadata: new Metadata() };
  return { code: GrpcStatus.INTERNAL, details: err instanceof Error ? err.message : String(err), metadata: new Metadata() };
}

/** Turns a gRPC error seen by a client back into our error classes. */
export function fromServiceError(err: Partial<ServiceError>): MesosError {
  const message = err.details || err.message || 'unknown error';
  switch (err.code) {
    case GrpcStatus.INVALID_ARGUMENT:
      return new InvalidArgument(message, { cause: err });
    case GrpcStatus.NOT_FOUND:
      return new NotFound(message, { cause: err });
    case GrpcStatus.FAILED_PRECONDITION:
      return new FailedPrecondition(message, { cause: err });
    case GrpcStatus.PERMISSION_DENIED:
      return new PermissionDenied(message, { cause: err });
    case GrpcStatus.UNAUTHENTICATED:
      return new Unauthenticated(message, { cause: err });
    case GrpcStatus.UNAVAILABLE:
    case GrpcStatus.DEADLINE_EXCEEDED:
    case GrpcStatus.CANCELLED:
      return new Unavailable(message, { cause: err });
    default:
      return new MesosError('INTERNAL', message, { cause: err });
  }
}
