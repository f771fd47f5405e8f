import { describe, expect, it } from 'vitest';
import { protoRoot, LOADER_OPTIONS, type Call, type CallIn } from '../../proto/index.js';
import { validateCall } from '../../master/validation.js';
import { InvalidArgument } from '../../common/errors.js';

// Calls go through the real protobuf encoding, as the gRPC server decodes them.
const CallType = protoRoot.lookupType('mesos.v1.scheduler.Call');
function decoded(call: CallIn): Call {
  const bytes = CallType.encode(CallType.fromObject(call)).finish();
  return CallType.toObject(CallType.decode(bytes), { ...LOADER_OPTIONS, enums: String, longs: Number }) as Call;
}

const fw = { framework_id: { value: 'f-1' } };

describe('validateCall', () => {
  it('accepts well-formed calls', () => {
    expect(() => validateCall(decoded({ type: 'SUBSCRIBE', subscribe: { framework_info: { name: 'x', user: 'u' } } }))).not.toThrow();
    expect(() => validateCall(decoded({ ...fw, type: 'DECLINE', decline: { offer_ids: [{ value: 'o1' }] } }))).not.toThrow();
    expect(() => validateCall(decoded({ ...fw, type: 'REVIVE' }))).not.toThrow();
  });

  it.each<[string, CallIn, string]>([
    ['no type', {}, 'Call.type is missing'],
    ['no payload', { ...fw, type: 'ACCEPT' }, 'Call.accept is required for a ACCEPT call'],
    ['no framework id', { type: 'REVIVE' }, 'Call.framework_id is required for a REVIVE call'],
    ['no framework name', { type: 'SUBSCRIBE', subscribe: { framework_info: { user: 'u' } } }, 'framework_info.name is required'],
    [
      'negative failover timeout',
      { type: 'SUBSCRIBE', subscribe: { framework_info: { name: 'x', failover_timeout: -1 } } },
      'failover_timeout must be a non-negative',
    ],
    [
      'roles without MULTI_ROLE',
      { type: 'SUBSCRIBE', subscribe: { framework_info: { name: 'x', roles: ['a'] } } },
      'needs the MULTI_ROLE capability',
    ],
    ['bad role', { ...fw, type: 'SUPPRESS', suppress: { roles: ['a b'] } }, "'a b' is not a valid role name"],
    ['empty accept', { ...fw, type: 'ACCEPT', accept: { offer_ids: [] } }, 'Call.accept.offer_ids is empty'],
    ['short uuid', { ...fw, type: 'ACKNOWLEDGE', acknowledge: { agent_id: { value: 'a' }, task_id: { value: 't' }, uuid: Buffer.alloc(3) } }, 'must be 16 bytes, got 3'],
    ['kill without task', { ...fw, type: 'KILL', kill: {} }, 'Call.kill.task_id is required'],
    [
      'negative refuse',
      { ...fw, type: 'DECLINE', decline: { offer_ids: [{ value: 'o' }], filters: { refuse_seconds: -5 } } },
      'refuse_seconds must be a non-negative',
    ],
    [
      'framework id mismatch',
      { framework_id: { value: 'a' }, type: 'SUBSCRIBE', subscribe: { framework_info: { name: 'x', id: { value: 'b' } } } },
      "Call.framework_id 'a' differs",
    ],
  ])('rejects %s', (_name, call, message) => {
    expect(() => validateCall(decoded(call))).toThrow(InvalidArgument);
    expect(() => validateCall(decoded(call))).toThrow(message);
  });

  it('rejects a call sent to the wrong method', () => {
    expect(() => validateCall(decoded({ ...fw, type: 'REVIVE' }), 'SUPPRESS')).toThrow('Call.type is REVIVE but this method takes SUPPRESS');
  });
});
