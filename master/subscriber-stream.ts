// One subscribed scheduler's event stream, whatever carries it (a gRPC
// server stream or a chunked HTTP response): the sink the master sends
// events into, the bounded backlog in front of the transport
// (event-backlog.ts), and telling the master once, and only once, that the
// stream went away, because the scheduler hung up, because it read too
// slowly and was cut off, or not at all when the master closed it itself.
//
//   transport closed ──► closed() ──► master.streamClosed (or frameworkTooSlow)
//   backlog overflow ──► transport.cutOff() ──► closed()
//   master's close()  ──► flush, ERROR event if any, transport.end(); nothing reported
//
// SUBSCRIBE waits for the registry, so the stream may go before the master
// has named it: subscribedAs() reports such a stream as soon as it is named.
import type { EventIn } from '../proto/index.js';
import { errorMessage } from '../common/errors.js';
import type { EventSink, Master } from './master.js';
import { EventBacklog, type Overflow } from './event-backlog.js';

export interface SubscriberTransport<T> {
  /** False when the transport's buffer is full (the item is still taken). */
  write(item: T): boolean;
  /** Ends the stream normally, after what was written. */
  end(): void;
  /** Ends a stream whose scheduler left `waiting` unread; closed() follows. */
  cutOff(waiting: Overflow): void;
  /** An item as it waits (the same, or a form write() also takes) and its size in bytes on the wire; asked only of items that wait. */
  measure(item: T): { readonly event: T; readonly bytes: number };
}

type StreamMaster = Pick<Master, 'safely' | 'streamClosed' | 'frameworkTooSlow' | 'maxFrameworkEventQueue' | 'maxFrameworkEventQueueBytes'>;

export class SubscriberStream<T> {
  private open = true;
  private gone = false;
  /** Set once the master heard the stream went (or closed it itself). */
  private reported = false;
  private subscribed: { readonly frameworkId: string; readonly streamId: string } | null = null;
  private tooSlow: Overflow | null = null;
  private readonly backlog: EventBacklog<T>;
  readonly sink: EventSink;

  /** `encode` turns an event into what the transport carries; an event it cannot encode ends the stream with an ERROR. */
  constructor(private readonly master: StreamMaster, private readonly transport: SubscriberTransport<T>, encode: (event: EventIn) => T) {
    const limit = { events: master.maxFrameworkEventQueue, bytes: master.maxFrameworkEventQueueBytes, measure: (item: T) => transport.measure(item) };
    this.backlog = new EventBacklog<T>(transport, limit, (waiting) => {
      this.tooSlow = waiting;
      transport.cutOff(waiting);
      this.closed();
    });
    const self = this;
    this.sink = {
      send(event) {
        if (!self.open) return;
        let item: T;
        try {
          item = encode(event);
        } catch (err) {
          self.sink.close(`cannot encode a ${event.type ?? ''} event: ${errorMessage(err)}`);
          self.reported = false; // Not the master's doing: it hears of the stream's end when the transport closes.
          return;
        }
        self.backlog.push(item);
      },
      close(error) {
        if (!self.open) return;
        self.open = false;
        self.reported = true; // The master closed it: nothing to tell it.
        self.backlog.flush();
        if (error) transport.write(encode({ type: 'ERROR', error: { message: error } }));
        transport.end();
      },
      get queued() {
        return self.backlog.length;
      },
      get queuedBytes() {
        return self.backlog.bytes;
      },
    };
  }

  /** The transport can take more: waiting events go out. */
  drained(): void {
    this.backlog.drained();
  }

  /** The transport closed (the scheduler hung up, the connection dropped, or it was cut off). */
  closed(): void {
    this.gone = true;
    this.open = false;
    this.report();
  }

  /** The master admitted the subscription under these ids; a stream already gone is reported now. */
  subscribedAs(ids: { readonly frameworkId: string; readonly streamId: string }): void {
    this.subscribed = ids;
    if (this.gone) this.report();
  }

  /** Whether the transport closed before the subscription was admitted. */
  get isGone(): boolean {
    return this.gone;
  }

  private report(): void {
    if (this.reported || !this.subscribed) return;
    this.reported = true;
    const { frameworkId, streamId } = this.subscribed;
    const tooSlow = this.tooSlow;
    this.master.safely(() => (tooSlow === null ? this.master.streamClosed(frameworkId, streamId) : this.master.frameworkTooSlow(frameworkId, streamId, tooSlow)))();
  }
}
