import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_GRPC_MESSAGE_SIZE, messageSizeOptions } from '../../common/grpc-limits.js';
import { parseFlags } from '../../common/flags.js';
import { MASTER_FLAGS, MASTER_PARSE } from '../../master/flags.js';
import { AGENT_FLAGS } from '../../agent/flags.js';

describe('gRPC message size limits', () => {
  it('limit both directions, 16 MiB unless told', () => {
    expect(messageSizeOptions()).toEqual({ 'grpc.max_receive_message_length': 16 * 1024 * 1024, 'grpc.max_send_message_length': 16 * 1024 * 1024 });
    expect(messageSizeOptions(1024)).toEqual({ 'grpc.max_receive_message_length': 1024, 'grpc.max_send_message_length': 1024 });
  });

  it('refuse a size that is not a positive whole number, naming the flag', () => {
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => messageSizeOptions(bad)).toThrow(/--max_grpc_message_size must be a positive whole number of bytes/);
    }
    expect(() => messageSizeOptions(0, 'maxMessageSize')).toThrow(/^maxMessageSize/);
  });

  it('are flags of the master and the agent', () => {
    expect(parseFlags(MASTER_FLAGS, [], MASTER_PARSE).max_grpc_message_size).toBe(DEFAULT_MAX_GRPC_MESSAGE_SIZE);
    expect(parseFlags(MASTER_FLAGS, ['--max_grpc_message_size=1048576'], MASTER_PARSE).max_grpc_message_size).toBe(1048576);
    expect(parseFlags(AGENT_FLAGS, ['--master=127.0.0.1:5060', '--max_grpc_message_size=2048']).max_grpc_message_size).toBe(2048);
  });
});
