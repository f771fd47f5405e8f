// Reads the Prometheus text exposition strictly, so that a test fails on any
// line a Prometheus server would not take.

/** The text exposition format: `# TYPE name kind` lines and `name value` samples; anything else fails the test. */
export function parsePrometheus(text: string): { values: Map<string, number>; types: Map<string, string> } {
  const values = new Map<string, number>();
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ')) continue;
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge)$/.exec(line);
    if (type) {
      types.set(type[1]!, type[2]!);
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*) (\S+)$/.exec(line);
    if (!sample) throw new Error(`not a Prometheus exposition line: ${JSON.stringify(line)}`);
    values.set(sample[1]!, Number(sample[2]));
  }
  return { values, types };
}
