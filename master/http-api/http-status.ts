// The one mapping between our error classes and HTTP status codes, for the
// master's HTTP APIs (as common/grpc-status.ts is for gRPC), and the two
// edge helpers both APIs share: reading a bounded body, answering an error.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { MesosError, errorMessage, type ErrorCode } from '../../common/errors.js';

const TO_HTTP: Record<ErrorCode, number> = {
  INVALID_ARGUMENT: 400,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  // Well formed, but the state does not allow it (e.g. MESSAGE to a task without an executor).
  FAILED_PRECONDITION: 409,
  PERMISSION_DENIED: 403,
  UNAUTHENTICATED: 401,
  UNAVAILABLE: 503,
  INTERNAL: 500,
};

/** What a 401 answer asks for, as Mesos's basic authenticator does. */
export const BASIC_CHALLENGE = 'Basic realm="mesos"';

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

/** Beyond the limit, up to this much more is read and dropped before the 413 goes out; a larger body has its connection closed. */
export const MAX_DRAINED_BYTES = 64 * 1024 * 1024;

/**
 * The request body, at most `max` bytes; beyond, 413. The 413 waits until
 * the rest of the body (up to MAX_DRAINED_BYTES more) is read and dropped:
 * closing under a client still sending resets the connection, and the
 * client then sees EPIPE or ECONNRESET instead of the 413.
 */
export function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const tooLarge = (headers: Record<string, string> = {}) => new HttpError(413, `Request body exceeds the limit of ${max} bytes`, headers);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = Number(req.headers['content-length'] ?? 0) > max;
    // A declared length too large to drain is refused at once (the connection closes with the answer).
    if (Number(req.headers['content-length'] ?? 0) > max + MAX_DRAINED_BYTES) return void reject(tooLarge({ Connection: 'close' }));
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) over = true;
      if (!over) return void chunks.push(chunk);
      if (size > max + MAX_DRAINED_BYTES) {
        req.pause();
        reject(tooLarge({ Connection: 'close' }));
      }
    });
    req.once('end', () => (over ? reject(tooLarge()) : resolve(Buffer.concat(chunks))));
    req.once('error', reject);
    req.once('close', () => reject(new HttpError(400, 'The request ended before its body was complete')));
  });
}

/** An error as its status code and message; once a stream has begun there is no status to give, so the connection ends. */
export function refuse(res: ServerResponse, err: unknown): void {
  if (res.headersSent) return void res.destroy();
  const headers = err instanceof HttpError ? err.headers : httpStatusOf(err) === 401 ? { 'WWW-Authenticate': BASIC_CHALLENGE } : {};
  const body = `${errorMessage(err)}\n`;
  res.writeHead(httpStatusOf(err), { ...headers, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}
