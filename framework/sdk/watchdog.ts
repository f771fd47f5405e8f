// A timer that every sign of life re-arms: the scheduler's stream counts as
// dead when it stays silent longer than the armed interval.
export class Watchdog {
  private timer: NodeJS.Timeout | null = null;
  private ms = 0;
  private onExpire: () => void = () => {};

  set(ms: number, onExpire: () => void): void {
    this.ms = ms;
    this.onExpire = onExpire;
    this.kick();
  }

  kick(): void {
    this.stop();
    if (this.ms <= 0) return;
    this.timer = setTimeout(() => this.onExpire(), this.ms);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
