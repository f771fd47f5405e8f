// The snapshot the v0 JSON endpoints answer from. Built from the master's
// records only when something changed since the last build (Master.version),
// so polling costs a string copy. On a large cluster a build takes tens of
// milliseconds on the master's one event loop; when builds are that slow
// the snapshot is rebuilt at most once per 20 build-times
// (../bounded-staleness.ts), so however hard the endpoints are polled while
// the cluster changes, they take at most 1/20 of the loop from allocation
// (the snapshot is then up to that much behind). Each endpoint's JSON, as
// bytes, is made from the model once per build, on its first request.
// Tasks', agents' and offers' JSON and their texts are kept between builds
// and written again only when they changed (model.ts's KeptJson), so a
// build after one change is one turn of a few ms, not tens (round 8a in
// docs/scale/README.md).
import type { Master } from '../master.js';
import { buildModel, KeptJson, type V0Context, type V0Model } from './model.js';
import { BoundedStaleness, STATE_BOUNDS, type StalenessBounds } from '../bounded-staleness.js';

export class StateSnapshot {
  private current: V0Model | null = null;
  private bytes = new Map<string, Buffer>();
  private derived = new Map<string, unknown>();
  private readonly kept = new KeptJson();
  private readonly cache: BoundedStaleness<V0Model>;

  constructor(
    private readonly master: Master,
    private readonly context: V0Context,
    bounds: StalenessBounds = STATE_BOUNDS,
  ) {
    this.cache = new BoundedStaleness(() => master.version, bounds, undefined, () => master.freshReadsFrom);
  }

  /** The model, rebuilt when the master changed (and the rate bound allows). */
  model(): V0Model {
    const model = this.cache.get(() => buildModel(this.master, this.context, this.kept));
    if (model !== this.current) {
      this.current = model;
      this.bytes = new Map();
      this.derived = new Map();
    }
    return model;
  }

  /** /master/state's JSON text. */
  get(): string {
    return this.encoded('state', (m) => m.state).toString();
  }

  /**
   * An endpoint's JSON as UTF-8 bytes, made once per build: a socket write of
   * a text encodes it again on each request (a quarter of /master/state's
   * time on the event loop at N=1,000, round 7 in docs/scale/README.md).
   */
  encoded(key: string, make: (model: V0Model) => unknown): Buffer {
    const model = this.model();
    let bytes = this.bytes.get(key);
    if (bytes === undefined) this.bytes.set(key, (bytes = this.kept.texts.encode(make(model) as object)));
    return bytes;
  }

  /** A value derived from the model (e.g. tasks in order), made once per build. */
  memo<T>(key: string, make: (model: V0Model) => T): T {
    const model = this.model();
    if (!this.derived.has(key)) this.derived.set(key, make(model));
    return this.derived.get(key) as T;
  }
}
