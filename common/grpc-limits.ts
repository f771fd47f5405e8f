// The largest gRPC message we send or accept, set explicitly on every server
// and client we ship (grpc-js otherwise accepts 4 MiB and sends any size, so
// a master's large answer, a GET_STATE of a big cluster, would reach a client
// only to be refused there). Both sides use the same limit; a message beyond
// it fails that one call with RESOURCE_EXHAUSTED ("Received message larger
// than max ...") and changes nothing. The master's and the agent's
// --max_grpc_message_size flags override the default.
import { InvalidArgument } from './errors.js';

/** 16 MiB: an ACCEPT launching a thousand tasks, or GET_STATE of a few thousand tasks, is well below. */
export const DEFAULT_MAX_GRPC_MESSAGE_SIZE = 16 * 1024 * 1024;

/** grpc-js channel or server options limiting messages both ways to `bytes` (a positive integer, checked, naming `what`). */
export function messageSizeOptions(bytes: number = DEFAULT_MAX_GRPC_MESSAGE_SIZE, what = '--max_grpc_message_size'): Record<string, number> {
  if (!(Number.isInteger(bytes) && bytes > 0)) throw new InvalidArgument(`${what} must be a positive whole number of bytes, got ${bytes}`);
  return { 'grpc.max_receive_message_length': bytes, 'grpc.max_send_message_length': bytes };
}
