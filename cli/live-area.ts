// Redraws a block of lines in place on a terminal (the live tables of
// `mesos-ts local` and `mesos-ts demo`).
export class LiveArea {
  private lines = 0;
  private last = '';

  draw(text: string): void {
    const out = text.endsWith('\n') ? text : text + '\n';
    process.stdout.write(this.erase() + out);
    this.last = out;
    this.lines = out.split('\n').length - 1;
  }

  /** Writes a line above the block (it scrolls away as a log line would) and draws the block again below it. */
  print(line: string): void {
    process.stdout.write(this.erase() + line + '\n' + this.last);
  }

  /** Leaves what was drawn in place: the next draw starts below it. */
  done(): void {
    this.lines = 0;
    this.last = '';
  }

  private erase(): string {
    return this.lines ? `\x1b[${this.lines}A\x1b[J` : '';
  }
}
