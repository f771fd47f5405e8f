/**
 * The framework SDK of mesos-ts (`mesos-ts/sdk`): write a Mesos-style scheduler against a mesos-ts master.
 *
 * @remarks
 * {@link Scheduler} is the subscription: events (EventEmitter or `for await`), calls, reconnection.
 *
 * Matching: {@link parseDemand}, {@link OfferPacker} and {@link packOffers} fit task demands (`cpus:0.1;mem:32` + ports) into offers.
 *
 * {@link dockerTask} builds the TaskInfo for a command in a Docker container.
 *
 * {@link BatchPlan} and {@link runBatch} run a batch of such tasks to completion (retries, concurrency, kill).
 *
 * @packageDocumentation
 */
export { Scheduler, silentLogger, warningsLogger } from './scheduler.js';
export { STREAM_ID_KEY } from '../../common/stream-id.js';
export type { SchedulerOptions, SchedulerState, SubscribedEvent, CallOptions, Logger } from './scheduler.js';
export type { Credential } from '../../common/credentials.js';
export type { Keepalive } from '../../common/grpc-keepalive.js';
export { tlsConfig, tlsFromEnv } from '../../common/tls.js';
export type { Tls, TlsFlags } from '../../common/tls.js';
export type { SchedulerEvent, SchedulerEventType, SchedulerEventMap } from './events.js';
export { needsAcknowledgement } from './events.js';
export { DEFAULT_RECONNECT, reconnectDelay, reconnectSchedule, resolveReconnect } from './reconnect.js';
export type { ReconnectOptions } from './reconnect.js';
export { frameworkInfo, offerIdOf } from './calls.js';
export type { FrameworkOptions, OfferRef, OperationIn, ReconcileTask, CapabilityType } from './calls.js';
export { parseDemand, fitDemand, matchDemand, packOffers, OfferPacker } from './matching.js';
export type { Demand, Fit, OfferLike, Placement, PackResult, PackOptions, PackStrategy } from './matching.js';
export { dockerTask, allocationRoleOf } from './task-builder.js';
export type { DockerTaskSpec, DockerNetwork, Containerizer } from './task-builder.js';
export { BatchPlan, formatTaskLine } from './batch.js';
export type { BatchTaskSpec, BatchTaskView, BatchTaskState, BatchOptions, BatchSummary, OfferDecision } from './batch.js';
export { runBatch } from './batch-runner.js';
export type { RunBatchOptions, BatchOutcome } from './batch-runner.js';
export { Resources } from '../../common/resources.js';
export type { OfferOut, TaskInfoIn, TaskStatusOut, MasterInfoOut } from '../../proto/index.js';
export { isTerminal } from '../../common/task-state.js';
export type { TaskState } from '../../common/task-state.js';
export { MesosError, InvalidArgument, NotFound, FailedPrecondition, PermissionDenied, Unavailable } from '../../common/errors.js';
export type { ErrorCode } from '../../common/errors.js';
