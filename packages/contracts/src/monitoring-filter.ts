/**
 * Cloud Monitoring's filter language (https://cloud.google.com/monitoring/api/v3/filters),
 * read far enough to know what a condition selects: its comparisons
 * (`metric.type = "…"`, `metric.labels.response_code_class = "5xx"`,
 * `metric.label."response_code" >= 500`, `resource.labels.x = one_of("a", "b")`)
 * and whether they are joined by AND only. Pure, and linear in the filter's
 * length: one pass of a hand-written scanner, no regular expression over the input.
 */

/** The longest filter read; a longer one is not read at all (Monitoring's own filters are far shorter). */
export const MAX_FILTER_LENGTH = 16_384;

export type FilterOperator = '=' | '!=' | '>' | '>=' | '<' | '<=' | ':';

/** A comparison's right-hand side: a string or a number as written, or a function of string arguments. */
export type FilterValue =
  { kind: 'string'; text: string } | { kind: 'number'; value: number; text: string } | { kind: 'function'; name: string; args: string[] };

export interface FilterComparison {
  /** The left-hand side, normalised: `metric.labels.x` and `metric.label."x"` are both `metric.label.x`. */
  selector: string;
  operator: FilterOperator;
  value: FilterValue;
}

/** What a filter says: its comparisons, its bare function calls (`select_slo_burn_rate(…)`), and how they are joined. */
export interface ParsedFilter {
  comparisons: FilterComparison[];
  calls: Array<{ name: string; args: string[] }>;
  /** True when every term is joined by AND (or a space, which means AND) with no OR and no negation. */
  conjunctive: boolean;
}

type Token =
  | { t: 'word'; text: string }
  | { t: 'string'; text: string }
  | { t: 'op'; text: FilterOperator }
  | { t: '(' }
  | { t: ')' }
  | { t: ',' }
  | { t: '-' };

const OPERATOR_CHARS = '=!<>:';
const isSpace = (c: string): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\r';
const isWordChar = (c: string): boolean =>
  (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c === '_' || c === '.' || c === '/' || c === '+';

/** The filter as tokens, or null when it holds something the language has no token for (an unterminated string, a stray character). */
function tokenize(filter: string): Token[] | null {
  const tokens: Token[] = [];
  let i = 0;
  while (i < filter.length) {
    const c = filter[i]!;
    if (isSpace(c)) {
      i++;
    } else if (c === '(' || c === ')' || c === ',') {
      tokens.push({ t: c });
      i++;
    } else if (c === '"') {
      let text = '';
      i++;
      for (;;) {
        if (i >= filter.length) return null;
        const d = filter[i]!;
        if (d === '\\') {
          if (i + 1 >= filter.length) return null;
          text += filter[i + 1];
          i += 2;
        } else if (d === '"') {
          i++;
          break;
        } else {
          text += d;
          i++;
        }
      }
      tokens.push({ t: 'string', text });
    } else if (OPERATOR_CHARS.includes(c)) {
      const two = filter.slice(i, i + 2);
      if (two === '>=' || two === '<=' || two === '!=') {
        tokens.push({ t: 'op', text: two });
        i += 2;
      } else if (c === '!') {
        return null;
      } else {
        tokens.push({ t: 'op', text: c as FilterOperator });
        i++;
      }
    } else if (c === '-' && (tokens.length === 0 || tokens[tokens.length - 1]!.t !== 'op')) {
      // A leading minus negates the term after it (a minus after an operator belongs to a number).
      tokens.push({ t: '-' });
      i++;
    } else if (isWordChar(c) || c === '-') {
      const start = i;
      i++;
      while (i < filter.length && (isWordChar(filter[i]!) || filter[i] === '-')) i++;
      tokens.push({ t: 'word', text: filter.slice(start, i) });
    } else {
      return null;
    }
  }
  return tokens;
}

/** `metric.labels.x`, `metric.label.x` and `metric.label."x"` (a word ending in `.` then a string) all name `metric.label.x`. */
function normaliseSelector(selector: string): string {
  return selector.replace(/^(metric|resource)\.labels\./, '$1.label.').replace(/^metadata\.(system|user)_labels\./, 'metadata.$1_label.');
}

const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const BOOLEAN_WORDS = new Set(['AND', 'OR', 'NOT']);

/**
 * Parses a Monitoring filter; null when it is longer than MAX_FILTER_LENGTH or
 * not a filter this reader understands (then nothing can be concluded from it).
 */
export function parseFilter(filter: string): ParsedFilter | null {
  if (filter.length > MAX_FILTER_LENGTH) return null;
  const tokens = tokenize(filter);
  if (tokens === null) return null;
  const comparisons: FilterComparison[] = [];
  const calls: ParsedFilter['calls'] = [];
  let conjunctive = true;
  let depth = 0;
  let i = 0;

  /** Function arguments from just after `(` to the matching `)`: strings and words only. */
  const argsFrom = (): string[] | null => {
    const args: string[] = [];
    for (;;) {
      const token = tokens[i];
      if (token === undefined) return null;
      if (token.t === ')') {
        i++;
        return args;
      }
      if (token.t === 'string' || token.t === 'word') {
        args.push(token.text);
        i++;
        const next = tokens[i];
        if (next?.t === ',') i++;
        else if (next?.t !== ')') return null;
      } else {
        return null;
      }
    }
  };

  while (i < tokens.length) {
    const token = tokens[i]!;
    if (token.t === '(') {
      depth++;
      i++;
      continue;
    }
    if (token.t === ')') {
      if (depth === 0) return null;
      depth--;
      i++;
      continue;
    }
    if (token.t === '-') {
      conjunctive = false;
      i++;
      continue;
    }
    if (token.t !== 'word') return null;
    if (BOOLEAN_WORDS.has(token.text)) {
      if (token.text !== 'AND') conjunctive = false;
      i++;
      continue;
    }
    // A selector: a word, and a quoted last segment when the word ends in a dot.
    let selector = token.text;
    i++;
    const quoted = tokens[i];
    if (selector.endsWith('.') && quoted?.t === 'string') {
      selector += quoted.text;
      i++;
    }
    const next = tokens[i];
    if (next?.t === '(') {
      // A bare call: select_slo_burn_rate("…", "3600s").
      i++;
      const args = argsFrom();
      if (args === null) return null;
      calls.push({ name: selector, args });
      continue;
    }
    if (next?.t !== 'op') return null;
    const operator = next.text;
    i++;
    const rhs = tokens[i];
    if (rhs === undefined) return null;
    let value: FilterValue;
    if (rhs.t === 'string') {
      value = { kind: 'string', text: rhs.text };
      i++;
    } else if (rhs.t === 'word') {
      i++;
      if (tokens[i]?.t === '(') {
        i++;
        const args = argsFrom();
        if (args === null) return null;
        value = { kind: 'function', name: rhs.text, args };
      } else if (NUMBER.test(rhs.text)) {
        value = { kind: 'number', value: Number(rhs.text), text: rhs.text };
      } else {
        value = { kind: 'string', text: rhs.text };
      }
    } else {
      return null;
    }
    comparisons.push({ selector: normaliseSelector(selector), operator, value });
  }
  if (depth !== 0) return null;
  return { comparisons, calls, conjunctive };
}
