// Aligned text tables for the CLI: one header line, one line per row,
// columns two spaces apart; numeric columns are right-aligned.

export interface Column {
  readonly header: string;
  readonly align?: 'left' | 'right';
}

export function table(columns: readonly Column[], rows: readonly (readonly string[])[]): string {
  const widths = columns.map((c, i) => Math.max(c.header.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    columns
      .map((c, i) => (c.align === 'right' ? (cells[i] ?? '').padStart(widths[i]!) : (cells[i] ?? '').padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...rows.map(line)].join('\n') + '\n';
}

/** A quantity as people read it: at most two decimals, no trailing zeros. */
export function quantity(value: number): string {
  return String(Math.round(value * 100) / 100);
}
