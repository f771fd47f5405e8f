// Marathon placement constraints: `[field, operator, value?]`, where field is
// `hostname` (or `@hostname`) or an agent attribute. Pure: `constraintRefusal`
// says, in one line naming the constraint and the value, why an agent does
// not fit given where the app's instances already run, or null when it fits.
//
//   UNIQUE        no two instances share the value
//   CLUSTER v     every instance on value v (without v: on the first instance's value)
//   GROUP_BY n    spread evenly over the values (over n of them when n is given)
//   LIKE re       the value fully matches re;  UNLIKE re: it does not
//   MAX_PER n     at most n instances per value
//   IS v          the value is exactly v
import { show } from './json-fields.js';
export type ConstraintOperator = 'UNIQUE' | 'CLUSTER' | 'GROUP_BY' | 'LIKE' | 'UNLIKE' | 'MAX_PER' | 'IS';

export interface Constraint {
  readonly field: string;
  readonly operator: ConstraintOperator;
  readonly value?: string;
  /** As the user wrote it, for GET. */
  readonly raw: readonly string[];
}

/** What constraints look at on an agent: its hostname and attributes (scalars as text). */
export interface AgentFacts {
  readonly hostname: string;
  readonly attributes: Readonly<Record<string, string>>;
}

const OPERATORS: readonly ConstraintOperator[] = ['UNIQUE', 'CLUSTER', 'GROUP_BY', 'LIKE', 'UNLIKE', 'MAX_PER', 'IS'];

/** Parses `["hostname","MAX_PER","2"]`; a string is the error, naming the part. */
export function parseConstraint(item: unknown): Constraint | string {
  if (!Array.isArray(item) || item.length < 2 || item.length > 3 || item.some((p) => typeof p !== 'string')) {
    return `expected [field, operator] or [field, operator, value] of strings, got ${show(item)}`;
  }
  const [field, op, value] = item as string[];
  if (!field) return 'the field is empty';
  const operator = op as ConstraintOperator;
  if (!OPERATORS.includes(operator)) return `unknown operator ${JSON.stringify(op)}; expected one of ${OPERATORS.join(', ')}`;
  const raw = item as string[];
  switch (operator) {
    case 'UNIQUE':
      if (value !== undefined) return 'UNIQUE takes no value';
      break;
    case 'LIKE':
    case 'UNLIKE':
      if (value === undefined) return `${operator} needs a regular expression`;
      try {
        new RegExp(value);
      } catch {
        return `'${value}' is not a valid regular expression`;
      }
      break;
    case 'MAX_PER':
      if (value === undefined || !/^[1-9]\d*$/.test(value)) return `MAX_PER needs a whole number >= 1, got ${JSON.stringify(value)}`;
      break;
    case 'GROUP_BY':
      if (value !== undefined && !/^[1-9]\d*$/.test(value)) return `GROUP_BY takes an optional whole number >= 1, got ${JSON.stringify(value)}`;
      break;
    case 'IS':
      if (value === undefined) return 'IS needs a value';
      break;
    case 'CLUSTER':
      break;
  }
  return { field, operator, ...(value !== undefined && { value }), raw };
}

function valueOf(field: string, agent: AgentFacts): string | undefined {
  return field === 'hostname' || field === '@hostname' ? agent.hostname : agent.attributes[field];
}

/** Why `agent` cannot take one more instance, given the agents of the app's live instances (`placed`); null when it can. */
export function constraintRefusal(c: Constraint, agent: AgentFacts, placed: readonly AgentFacts[]): string | null {
  const name = `${c.raw.join(':')}`;
  const mine = valueOf(c.field, agent);
  if (mine === undefined && c.operator !== 'UNLIKE') return `${name}: agent ${agent.hostname} has no attribute '${c.field}'`;
  const values = placed.map((p) => valueOf(c.field, p)).filter((v): v is string => v !== undefined);
  const here = values.filter((v) => v === mine).length;
  switch (c.operator) {
    case 'UNIQUE':
      return here > 0 ? `${name}: an instance already runs where ${c.field} is '${mine}'` : null;
    case 'CLUSTER': {
      const target = c.value ?? values[0];
      return target !== undefined && mine !== target ? `${name}: ${c.field} is '${mine}', instances must run where it is '${target}'` : null;
    }
    case 'IS':
      return mine !== c.value ? `${name}: ${c.field} is '${mine}', not '${c.value}'` : null;
    case 'LIKE':
      return new RegExp(`^(?:${c.value})$`).test(mine!) ? null : `${name}: ${c.field} '${mine}' does not match '${c.value}'`;
    case 'UNLIKE':
      return mine !== undefined && new RegExp(`^(?:${c.value})$`).test(mine) ? `${name}: ${c.field} '${mine}' matches '${c.value}'` : null;
    case 'MAX_PER':
      return here >= Number(c.value) ? `${name}: ${here} instance(s) already run where ${c.field} is '${mine}'` : null;
    case 'GROUP_BY': {
      if (here === 0) return null;
      const counts = new Map<string, number>();
      for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
      if (c.value !== undefined && counts.size < Number(c.value)) {
        return `${name}: ${c.field} '${mine}' already has ${here}, waiting for an agent with another of the ${c.value} values`;
      }
      const least = Math.min(...counts.values());
      return here > least ? `${name}: ${c.field} '${mine}' has ${here} instance(s), another value has ${least}` : null;
    }
  }
}

/** The first refusal among the app's constraints, or null. */
export function placementRefusal(constraints: readonly Constraint[], agent: AgentFacts, placed: readonly AgentFacts[]): string | null {
  for (const c of constraints) {
    const why = constraintRefusal(c, agent, placed);
    if (why) return why;
  }
  return null;
}
