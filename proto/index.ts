// Loads our .proto files at run time, once, and re-exports the generated
// types under short names. Everything that speaks protobuf imports from here;
// the types come from proto/gen (npm run gen), never written by hand.
//
// The gRPC services are defined here from a protobufjs root, with the
// (de)serializers @grpc/proto-loader would make, and with proto-loader's own
// protobufjs (7), so that bytes read the same as before: protobufjs 8 (our
// protoRoot) reads an enum number no value has as the enum's first name, and
// skips a field of the wrong wire type, where 7 keeps the number and refuses
// the message. proto-loader's loadSync also built a descriptor of every
// message type, about a third of a second of CPU in every process's start,
// for definitions nothing here reads.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import type { Options as LoaderOptions } from '@grpc/proto-loader';
import type { Method, Root, Service, Type } from 'protobufjs';
import type { ProtoGrpcType as SchedulerServiceProto } from './gen/scheduler_service.js';
import type { ProtoGrpcType as AgentServiceProto } from './gen/agent_service.js';
import type { ProtoGrpcType as OperatorServiceProto } from './gen/operator_service.js';
import { plainEncoder, type ProtobufRuntime } from './plain-encoder.js';

export const PROTO_DIR = fileURLToPath(new URL('.', import.meta.url));

/** How messages become objects (scripts/gen-proto-types.mjs generates the types with these: keep the two in step). */
export const LOADER_OPTIONS: LoaderOptions = {
  keepCase: true,
  longs: Number,
  enums: String,
  bytes: Buffer,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_DIR],
};

const PROTO_FILES = ['mesos/v1/mesos.proto', 'mesos/v1/scheduler/scheduler.proto', 'mesos/v1/master/master.proto',
  'mesos_ts/scheduler_service.proto', 'mesos_ts/agent_service.proto', 'mesos_ts/operator_service.proto'];
/** The services gRPC serves and calls. */
const SERVICES = ['mesos_ts.Scheduler', 'mesos_ts.internal.AgentLink', 'mesos_ts.operator.Operator'];

const require = createRequire(import.meta.url);

/** The protobufjs that @grpc/proto-loader uses (7). */
const protobuf7 = createRequire(require.resolve('@grpc/proto-loader'))('protobufjs') as typeof import('protobufjs');

/** The files read by the protobufjs that @grpc/proto-loader uses (7): what gRPC and protobuf bodies are read and written with. */
const wireRoot: Root = (() => {
  const root = new protobuf7.Root();
  root.resolvePath = (_origin, target) => (target.startsWith('/') ? target : PROTO_DIR + target);
  root.loadSync(PROTO_FILES, { keepCase: true });
  root.resolveAll();
  return root;
})();

/** The same schema in protobufjs 8, for encoding outside gRPC (checkpoints, the HTTP APIs' JSON); from the wire root's JSON, not parsed again. */
export const protoRoot: Root = (() => {
  const root = (require('protobufjs') as typeof import('protobufjs')).Root.fromJSON(wireRoot.toJSON());
  root.resolveAll();
  return root;
})();

/** One message type to bytes and back, as gRPC and the HTTP APIs carry it. */
export interface MessageCodec<In, Out> {
  serialize(value: In): Buffer;
  deserialize(bytes: Buffer): Out;
}

/** The codec of the message type named `typeName` (full name): objects in as fromObject reads them, out with LOADER_OPTIONS. */
export function messageCodec<In, Out>(typeName: string): MessageCodec<In, Out> {
  return codecOf(wireRoot.lookupType(typeName));
}

/** The wire root's type named `typeName` (full name): what gRPC encodes with. */
export function wireType(typeName: string): Type {
  return wireRoot.lookupType(typeName);
}

/** `value` as protobufjs 7 writes it, by way of a message instance: what serialize gives, and does when the plain encoder refuses `value`. */
export function serializeViaFromObject(t: Type, value: unknown): Buffer {
  return t.encode(t.fromObject(value as Record<string, unknown>)).finish() as Buffer;
}

/** The codec of `t`, a type of the wire root or of another protobufjs 7 root. */
export function codecOf<In, Out>(t: Type): MessageCodec<In, Out> {
  const encodePlain = plainEncoder(protobuf7 as unknown as ProtobufRuntime, t);
  return {
    serialize(value) {
      if (Array.isArray(value)) throw new Error(`Failed to serialize message: expected object with ${t.name} structure, got array instead`);
      try {
        return encodePlain(value) as Buffer;
      } catch {
        // Bad input: fromObject + encode throw their own error, as before (or write their bytes, were the plain encoder wrong to refuse).
        return serializeViaFromObject(t, value);
      }
    },
    deserialize: (bytes) => t.toObject(t.decode(bytes), LOADER_OPTIONS as never) as Out,
  };
}

function methodDefinition(serviceName: string, method: Method): grpc.MethodDefinition<unknown, unknown> {
  const request = codecOf(method.resolvedRequestType!);
  const response = codecOf(method.resolvedResponseType!);
  return {
    path: `/${serviceName}/${method.name}`,
    requestStream: method.requestStream === true,
    responseStream: method.responseStream === true,
    requestSerialize: request.serialize,
    requestDeserialize: request.deserialize,
    responseSerialize: response.serialize,
    responseDeserialize: response.deserialize,
    // A client has each method under both names (Subscribe and subscribe), as with proto-loader.
    originalName: method.name.charAt(0).toLowerCase() + method.name.slice(1),
  };
}

function serviceDefinition(name: string): grpc.ServiceDefinition {
  const service = wireRoot.lookupService(name) as Service;
  return Object.fromEntries(service.methodsArray.map((m) => [m.name, methodDefinition(name, m)])) as grpc.ServiceDefinition;
}

/** The services by full name, as grpc.loadPackageDefinition takes them. */
const packageDefinition: Record<string, grpc.ServiceDefinition> = Object.fromEntries(SERVICES.map((name) => [name, serviceDefinition(name)]));
export const grpcObject = grpc.loadPackageDefinition(packageDefinition as never) as unknown as SchedulerServiceProto & AgentServiceProto & OperatorServiceProto;

export type { Call as CallIn, Call__Output as Call } from './gen/mesos/v1/scheduler/Call.js';
export type { Event as EventIn, Event__Output as EventOut } from './gen/mesos/v1/scheduler/Event.js';
export type { Response as SchedulerResponse } from './gen/mesos/v1/scheduler/Response.js';
export type { Resource as ResourceIn, Resource__Output as ResourceOut } from './gen/mesos/v1/Resource.js';
export type { Offer as OfferIn, Offer__Output as OfferOut } from './gen/mesos/v1/Offer.js';
export type { InverseOffer__Output as InverseOfferOut } from './gen/mesos/v1/InverseOffer.js';
export type { TaskInfo as TaskInfoIn, TaskInfo__Output as TaskInfoOut } from './gen/mesos/v1/TaskInfo.js';
export type { KillPolicy as KillPolicyIn, KillPolicy__Output as KillPolicyOut } from './gen/mesos/v1/KillPolicy.js';
export type { Task as TaskIn, Task__Output as TaskOut } from './gen/mesos/v1/Task.js';
export type { TaskStatus as TaskStatusIn, TaskStatus__Output as TaskStatusOut } from './gen/mesos/v1/TaskStatus.js';
export type { TaskState } from './gen/mesos/v1/TaskState.js';
export type { FrameworkInfo as FrameworkInfoIn, FrameworkInfo__Output as FrameworkInfoOut } from './gen/mesos/v1/FrameworkInfo.js';
export type { AgentInfo as AgentInfoIn, AgentInfo__Output as AgentInfoOut } from './gen/mesos/v1/AgentInfo.js';
export type { Attribute as AttributeIn, Attribute__Output as AttributeOut } from './gen/mesos/v1/Attribute.js';
export type { MasterInfo as MasterInfoIn, MasterInfo__Output as MasterInfoOut } from './gen/mesos/v1/MasterInfo.js';
export type { AgentMessage as AgentMessageIn, AgentMessage__Output as AgentMessageOut } from './gen/mesos_ts/internal/AgentMessage.js';
export type { MasterMessage as MasterMessageIn, MasterMessage__Output as MasterMessageOut } from './gen/mesos_ts/internal/MasterMessage.js';
export type { AgentLinkClient } from './gen/mesos_ts/internal/AgentLink.js';
export type { SchedulerClient } from './gen/mesos_ts/Scheduler.js';
export type { CallRequest as CallRequestIn, CallRequest__Output as CallRequest } from './gen/mesos_ts/CallRequest.js';
export type { CallReply as CallReplyIn, CallReply__Output as CallReply } from './gen/mesos_ts/CallReply.js';
export type { CallOutcome as CallOutcomeIn, CallOutcome__Output as CallOutcome } from './gen/mesos_ts/CallOutcome.js';
export type { Call as OperatorCallIn, Call__Output as OperatorCall } from './gen/mesos/v1/master/Call.js';
export type { Response as OperatorResponse } from './gen/mesos/v1/master/Response.js';
export type { Event as OperatorEvent, Event__Output as OperatorEventOut } from './gen/mesos/v1/master/Event.js';
export type { OperatorClient } from './gen/mesos_ts/operator/Operator.js';
