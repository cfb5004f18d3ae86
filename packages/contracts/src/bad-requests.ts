/**
 * What makes a request *bad* for a request-count metric, and whether a ratio
 * condition's numerator selects exactly those. An alert on a ratio of 4xx to
 * all requests, or on a canary's share of traffic, is a ratio of request
 * counts but not an error ratio: rolling back on it would be wrong. Pure.
 */
import { parseFilter, type FilterComparison, type ParsedFilter } from './monitoring-filter.js';

/**
 * A request is bad when its label has one of `values` (`response_code_class = "5xx"`),
 * or a number of at least `min` (`response_code >= 500`). `label` is normalised (`metric.label.x`).
 */
export type BadRequestPredicate =
  { label: string; kind: 'equals'; values: string[]; text: string } | { label: string; kind: 'atLeast'; min: number; text: string };

/**
 * The bad-request predicates Burnback knows for Google Cloud's request-count
 * metrics; a service's config may name others (`signals.errorRatio.badRequests`).
 * Cloud Run's `response_code_class` is a string (`5xx`); App Engine's and Istio's
 * `response_code` a number; the load balancer's `response_code_class` a number (500).
 */
export const DEFAULT_BAD_REQUESTS: ReadonlyMap<string, string> = new Map([
  ['run.googleapis.com/request_count', 'metric.labels.response_code_class = "5xx"'],
  ['appengine.googleapis.com/http/server/response_count', 'metric.labels.response_code >= 500'],
  ['istio.io/service/server/request_count', 'metric.labels.response_code >= 500'],
  ['loadbalancing.googleapis.com/https/request_count', 'metric.labels.response_code_class = 500'],
]);

/** Reads a predicate as a config writes it: one `metric.labels.X = "v"`, `= one_of("a", "b")`, `>= n` or `> n`; else the reason it cannot be one. */
export function parseBadRequestPredicate(text: string): BadRequestPredicate | { error: string } {
  const parsed = parseFilter(text);
  const usage =
    'expected one comparison on a metric label, e.g. metric.labels.response_code_class = "5xx" or metric.labels.response_code >= 500';
  if (parsed === null || parsed.comparisons.length !== 1 || parsed.calls.length > 0 || !parsed.conjunctive) return { error: usage };
  const [c] = parsed.comparisons as [FilterComparison];
  if (!c.selector.startsWith('metric.label.')) return { error: `${usage} (not a metric label: ${c.selector})` };
  const value = c.value;
  if (c.operator === '=' && value.kind !== 'function') return { label: c.selector, kind: 'equals', values: [value.text], text };
  if (c.operator === '=' && value.kind === 'function' && value.name === 'one_of' && value.args.length > 0)
    return { label: c.selector, kind: 'equals', values: [...value.args], text };
  const n = value.kind === 'function' ? Number.NaN : Number(value.text);
  if (Number.isFinite(n) && c.operator === '>=') return { label: c.selector, kind: 'atLeast', min: n, text };
  if (Number.isFinite(n) && c.operator === '>') return { label: c.selector, kind: 'atLeast', min: n + 1, text };
  return { error: usage };
}

/** A comparison as a filter would write it, for a reason. */
export function describeComparison(c: FilterComparison): string {
  const value =
    c.value.kind === 'function'
      ? `${c.value.name}(${c.value.args.map((a) => JSON.stringify(a)).join(', ')})`
      : c.value.kind === 'string'
        ? JSON.stringify(c.value.text)
        : c.value.text;
  return `${c.selector} ${c.operator} ${value}`;
}

/** The values a comparison's right-hand side can take as text: one, or one_of's arguments; null for another function. */
function valuesOf(c: FilterComparison): string[] | null {
  if (c.value.kind !== 'function') return [c.value.text];
  return c.value.name === 'one_of' ? c.value.args : null;
}

/** Whether one comparison on the predicate's label selects only bad requests. */
function selectsOnlyBad(c: FilterComparison, p: BadRequestPredicate): boolean {
  const values = valuesOf(c);
  if (values === null || values.length === 0) return false;
  if (p.kind === 'equals') return c.operator === '=' && values.every((v) => p.values.includes(v));
  const numbers = values.map(Number);
  if (!numbers.every(Number.isFinite)) return false;
  switch (c.operator) {
    case '=':
    case '>=':
      return numbers.every((n) => n >= p.min);
    case '>':
      return numbers.every((n) => n + 1 >= p.min);
    default:
      return false;
  }
}

/** Whether the comparisons on the label select exactly the requests that are not bad (`!= "5xx"`, `< 500`). */
function selectsExactlyGood(on: FilterComparison[], p: BadRequestPredicate): boolean {
  if (p.kind === 'equals') {
    // Every bad value excluded with !=, and nothing else said about the label.
    const excluded = new Set<string>();
    for (const c of on) {
      const values = valuesOf(c);
      if (c.operator !== '!=' || values === null || values.length !== 1) return false;
      excluded.add(values[0]!);
    }
    return p.values.every((v) => excluded.has(v)) && [...excluded].every((v) => p.values.includes(v));
  }
  if (on.length !== 1) return false;
  const [c] = on as [FilterComparison];
  const n = c.value.kind === 'function' ? Number.NaN : Number(c.value.text);
  return (c.operator === '<' && n === p.min) || (c.operator === '<=' && n + 1 === p.min);
}

/**
 * Why a ratio condition is not an error ratio for `predicate`, or null when it
 * is: its numerator must select only the bad requests (`counts: 'bad'`, a ratio
 * alerting above its threshold) or exactly the others (`'good'`, alerting
 * below), and its denominator every request (nothing said about the label).
 * A filter this reader cannot follow (OR, NOT, an unknown function) proves nothing.
 */
export function errorRatioRefusal(
  numerator: string,
  denominator: string,
  predicate: BadRequestPredicate,
  counts: 'bad' | 'good',
): string | null {
  const num = parseFilter(numerator);
  const den = parseFilter(denominator);
  const unreadable = (which: string, f: ParsedFilter | null): string | null =>
    f === null
      ? `its ${which} filter cannot be read, so whether it selects bad requests (${predicate.text}) is unknown`
      : f.conjunctive
        ? null
        : `its ${which} filter joins terms with OR or NOT, so whether it selects bad requests (${predicate.text}) is unknown`;
  const why = unreadable('numerator', num) ?? unreadable('denominator', den);
  if (why !== null) return why;
  const onLabel = num!.comparisons.filter((c) => c.selector === predicate.label);
  const said = onLabel.length === 0 ? `says nothing of ${predicate.label}` : `selects ${onLabel.map(describeComparison).join(' AND ')}`;
  if (counts === 'bad' && !onLabel.some((c) => selectsOnlyBad(c, predicate)))
    return `its numerator ${said}: not only the bad requests (${predicate.text})`;
  if (counts === 'good' && !selectsExactlyGood(onLabel, predicate))
    return `it alerts below its threshold, so its numerator must select every request but the bad ones (${predicate.text}), and it ${said}`;
  const denominatorOnLabel = den!.comparisons.filter((c) => c.selector === predicate.label);
  if (denominatorOnLabel.length > 0)
    return `its denominator selects ${denominatorOnLabel.map(describeComparison).join(' AND ')}: not every request`;
  return null;
}
