// A liveness timer: it fires when nothing has kicked it for the armed
// interval, so a peer gone silent (a half-open connection, a master that
// stopped pinging, a stream with no heartbeat) is noticed. Kick it on every
// sign of life.
import { realTimers, type Timers } from './clock.js';

export class Watchdog {
  private handle: unknown = null;
  private ms = 0;
  private onExpire: () => void = () => {};

  constructor(private readonly timers: Timers = realTimers) {}

  /** Arms it: `onExpire` runs once `ms` pass without a kick(). An `ms` of 0 or less leaves it disarmed. */
  set(ms: number, onExpire: () => void): void {
    this.ms = ms;
    this.onExpire = onExpire;
    this.kick();
  }

  /** A sign of life: the interval starts again (after stop() too, with the last set()'s interval). */
  kick(): void {
    this.stop();
    if (this.ms <= 0) return;
    this.handle = this.timers.set(() => {
      this.handle = null;
      this.onExpire();
    }, this.ms);
  }

  /** Disarms it until the next set() or kick(). */
  stop(): void {
    if (this.handle !== null) this.timers.clear(this.handle);
    this.handle = null;
  }
}
