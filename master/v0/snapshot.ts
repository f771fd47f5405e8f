// The snapshot the v0 JSON endpoints answer from. Built from the master's
// records only when something changed since the last build (Master.version),
// so polling costs a string copy. On a large cluster a build takes tens of
// milliseconds on the master's one event loop; when builds are that slow
// the snapshot is rebuilt at most once per STALE_FACTOR build-times, so
// however hard the endpoints are polled while the cluster changes, they take
// at most 1/STALE_FACTOR of the loop from allocation (the snapshot is then
// up to that much behind). Each endpoint's JSON text is made from the model
// once per build, on its first request.
import type { Master } from '../master.js';
import { buildModel, type V0Context, type V0Model } from './model.js';
import { TaskJsonCache } from './writers.js';

/** Builds faster than this are always fresh. */
const SLOW_BUILD_MS = 10;
/** A slow build is done again only after this many times its own duration. */
const STALE_FACTOR = 20;

export interface SnapshotBounds {
  readonly slowBuildMs: number;
  readonly staleFactor: number;
}

export class StateSnapshot {
  private built = -1;
  private current: V0Model | null = null;
  private texts = new Map<string, string>();
  private derived = new Map<string, unknown>();
  private builtAt = 0;
  private buildMs = 0;
  private readonly tasks = new TaskJsonCache();

  constructor(
    private readonly master: Master,
    private readonly context: V0Context,
    private readonly bounds: SnapshotBounds = { slowBuildMs: SLOW_BUILD_MS, staleFactor: STALE_FACTOR },
  ) {}

  /** The model, rebuilt when the master changed (and the rate bound allows). */
  model(): V0Model {
    if (this.current && this.built === this.master.version) return this.current;
    const now = performance.now();
    if (this.current && this.buildMs > this.bounds.slowBuildMs && now - this.builtAt < this.buildMs * this.bounds.staleFactor) return this.current;
    this.built = this.master.version;
    this.current = buildModel(this.master, this.context, this.tasks);
    this.texts = new Map();
    this.derived = new Map();
    this.builtAt = performance.now();
    this.buildMs = this.builtAt - now;
    return this.current;
  }

  /** /master/state's JSON text. */
  get(): string {
    return this.text('state', (m) => m.state);
  }

  /** An endpoint's JSON text, made once per build. */
  text(key: string, make: (model: V0Model) => unknown): string {
    const model = this.model();
    let text = this.texts.get(key);
    if (text === undefined) this.texts.set(key, (text = JSON.stringify(make(model))));
    return text;
  }

  /** A value derived from the model (e.g. tasks in order), made once per build. */
  memo<T>(key: string, make: (model: V0Model) => T): T {
    const model = this.model();
    if (!this.derived.has(key)) this.derived.set(key, make(model));
    return this.derived.get(key) as T;
  }
}
