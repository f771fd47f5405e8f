// Loads our .proto files at run time and re-exports the generated types
// under short names. Everything that speaks protobuf imports from here; the
// types come from proto/gen (npm run gen), never written by hand.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ProtoGrpcType as SchedulerServiceProto } from './gen/scheduler_service.js';
import type { ProtoGrpcType as AgentServiceProto } from './gen/agent_service.js';
import type { ProtoGrpcType as OperatorServiceProto } from './gen/operator_service.js';

export const PROTO_DIR = fileURLToPath(new URL('.', import.meta.url));

/** Options shared with scripts/gen-proto-types.mjs: keep the two in step. */
export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: Number,
  enums: String,
  bytes: Buffer,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_DIR],
};

const definition = protoLoader.loadSync(
  ['mesos/v1/mesos.proto', 'mesos/v1/scheduler/scheduler.proto', 'mesos_ts/scheduler_service.proto', 'mesos_ts/agent_service.proto',
    'mesos_ts/operator_service.proto'],
  LOADER_OPTIONS,
);

export const packageDefinition = definition;
export const grpcObject = grpc.loadPackageDefinition(definition) as unknown as SchedulerServiceProto & AgentServiceProto & OperatorServiceProto;

/** The protobufjs root, for encoding/decoding outside gRPC (HTTP API, checkpoints). */
const require = createRequire(import.meta.url);
const protobuf = require('protobufjs') as typeof import('protobufjs');
export const protoRoot: import('protobufjs').Root = (() => {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => (target.startsWith('/') ? target : PROTO_DIR + target);
  root.loadSync(['mesos/v1/mesos.proto', 'mesos/v1/scheduler/scheduler.proto', 'mesos_ts/agent_service.proto', 'mesos/v1/master/master.proto'], {
    keepCase: true,
  });
  root.resolveAll();
  return root;
})();

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
export type { Call as OperatorCallIn, Call__Output as OperatorCall } from './gen/mesos/v1/master/Call.js';
export type { Response as OperatorResponse } from './gen/mesos/v1/master/Response.js';
export type { Event as OperatorEvent, Event__Output as OperatorEventOut } from './gen/mesos/v1/master/Event.js';
export type { OperatorClient } from './gen/mesos_ts/operator/Operator.js';
