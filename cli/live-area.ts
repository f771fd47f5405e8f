// Redraws a block of lines in place on a terminal (the live tables of
// `mesos-ts local` and `mesos-ts demo`).
export class LiveArea {
  private lines = 0;

  draw(text: string): void {
    const out = text.endsWith('\n') ? text : text + '\n';
    process.stdout.write((this.lines ? `\x1b[${this.lines}A\x1b[J` : '') + out);
    this.lines = out.split('\n').length - 1;
  }

  /** Leaves what was drawn in place: the next draw starts below it. */
  done(): void {
    this.lines = 0;
  }
}
