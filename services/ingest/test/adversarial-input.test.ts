import fc from 'fast-check';
import {
  errorRatioRefusal,
  incidentIdProblem,
  parseBadRequestPredicate,
  parseFilter,
  type MonitoringNotification,
} from '@burnback/contracts';
import { notificationBytes, openIncident, serviceConfig, servicesOf } from '@burnback/testkit/fixtures';
import { presentedToken } from '../src/app.js';
import { isWellFormedJson, parseNotification, parseValue, toAlertEvent } from '../src/parse.js';
import { burnPolicyNamedIn, durationSeconds, metricTypeOf, sloSelectorsOf } from '../src/signal.js';

/**
 * Every parser applied to input takes time linear in its length: a long,
 * hostile string (a 200,000-digit number with an `x` at its end once took ingest
 * 72 s, during which nothing else was answered) must cost about what reading it
 * costs. Checked as growth, not as a speed: each time the input grows 4×, a
 * parser's time stays within 10× (linear is 4×, quadratic 16×), plus a floor of
 * 200 plain passes over the longer input measured in the same run (so a parser
 * too fast to time is not judged on noise). The sizes grow step by step, so a
 * quadratic parser fails at the first step instead of running for minutes.
 */
const SIZES = [5_000, 20_000, 80_000];
const ALLOWED_GROWTH = 10;
const FLOOR_PASSES = 200;

/** Throws, naming the step, when `parse` grows faster than ALLOWED_GROWTH from one size to the next. */
function checkGrowth(what: string, parse: (input: string) => unknown, make: (n: number) => string): void {
  let previous: { n: number; ms: number } | null = null;
  for (const n of SIZES) {
    const input = make(n);
    fastest(parse, input, 1); // warm up: compile the code paths before timing them
    const ms = fastest(parse, input);
    if (previous !== null) {
      const budget = ALLOWED_GROWTH * previous.ms + FLOOR_PASSES * fastest(plainPass, input);
      if (ms > budget)
        throw new Error(
          `${what}: ${input.length} characters took ${ms.toFixed(1)} ms, ${(ms / Math.max(previous.ms, 1e-3)).toFixed(0)}× the ${previous.ms.toFixed(2)} ms of ${previous.n} (budget ${budget.toFixed(1)} ms)`,
        );
    }
    previous = { n: input.length, ms };
  }
}

/** The fastest of `runs` timings of `fn(input)`, in ms (the least disturbed by the rest of the machine). */
function fastest(fn: (input: string) => unknown, input: string, runs = 3): number {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    try {
      fn(input);
    } catch {
      // Refusing the input is an answer too; its time counts the same.
    }
    best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e6);
  }
  return best;
}

/** One plain pass over the text: the baseline a linear parser is measured against. */
function plainPass(text: string): number {
  let sum = 0;
  for (let i = 0; i < text.length; i++) sum = (sum + text.charCodeAt(i)) | 0;
  return sum;
}

/** Hostile shapes of text of about `n` characters: what makes a backtracking pattern or a naive scanner slow. */
const SHAPES: Array<[string, (n: number) => string]> = [
  ['digits then x', (n) => `${'1'.repeat(n)}x`],
  ['digits and points', (n) => '1.'.repeat(n / 2)],
  ['digits then an unfinished exponent', (n) => `${'9'.repeat(n)}e`],
  ['quotes', (n) => '"'.repeat(n)],
  ['backslashes', (n) => '\\'.repeat(n)],
  ['open parentheses', (n) => '('.repeat(n)],
  ['metric.type = " over and over', (n) => 'metric.type = "'.repeat(n / 15)],
  ['select_slo_ calls never closed', (n) => 'select_slo_burn_rate("'.repeat(n / 22)],
  ['spaces then x', (n) => `${' '.repeat(n)}x`],
  ['fast fast fast', (n) => 'fast'.repeat(n / 4)],
  ['underscores', (n) => '_'.repeat(n)],
  ['lone surrogates', (n) => '\ud800'.repeat(n)],
  ['a label name over and over', (n) => 'metric.labels.'.repeat(n / 14)],
];

const services = servicesOf(serviceConfig('api-backend'));
const withField = (patch: (n: MonitoringNotification) => void): ((text: string) => unknown) => {
  return (text) => {
    const notification = openIncident();
    (notification as unknown as { text: string }).text = text;
    patch(notification);
    const parsed = parseNotification(notificationBytes(notification));
    return toAlertEvent(parsed, { services, source: 'webhook', observedAt: new Date('2026-11-26T10:05:00Z'), notificationId: 'ntf-1' });
  };
};
const text = (n: MonitoringNotification): string => (n as unknown as { text: string }).text;
const RUN_5XX = parseBadRequestPredicate('metric.labels.response_code_class = "5xx"');

/** Every parser that reads input, each given the hostile text where it reads it. */
const PARSERS: Array<[string, (input: string) => unknown]> = [
  ['parseValue', (s) => parseValue(s, 'observed_value')],
  ['parseFilter', (s) => parseFilter(s)],
  ['metricTypeOf', (s) => metricTypeOf(s)],
  ['sloSelectorsOf', (s) => sloSelectorsOf(s)],
  ['durationSeconds', (s) => durationSeconds(s)],
  ['burnPolicyNamedIn', (s) => burnPolicyNamedIn(s)],
  ['incidentIdProblem', (s) => incidentIdProblem(s)],
  ['isWellFormedJson', (s) => isWellFormedJson({ [s]: s })],
  ['parseBadRequestPredicate', (s) => parseBadRequestPredicate(s)],
  ['errorRatioRefusal', (s) => ('error' in RUN_5XX ? null : errorRatioRefusal(s, s, RUN_5XX, 'bad'))],
  ['presentedToken', (s) => presentedToken({ query: {}, headers: { authorization: `Basic ${s}` } })],
  ['a notification: observed_value', withField((n) => (n.incident.observed_value = text(n)))],
  ['a notification: incident_id', withField((n) => (n.incident.incident_id = text(n)))],
  ['a notification: condition filter', withField((n) => (n.incident.condition!.conditionThreshold!.filter = text(n)))],
  ['a notification: denominator filter', withField((n) => (n.incident.condition!.conditionThreshold!.denominatorFilter = text(n)))],
  ['a notification: policy name', withField((n) => (n.incident.policy_name = text(n)))],
  ['a notification: resource label', withField((n) => (n.incident.resource!.labels.service_name = text(n)))],
  ['a notification: as a whole', (s) => parseNotification(s)],
];

describe('every parser is linear in its input: long, hostile strings cost what reading them costs', () => {
  it.each(PARSERS)('%s', (_name, parse) => {
    for (const [shape, make] of SHAPES) checkGrowth(shape, parse, make);
  });

  it('so do random strings over the characters these parsers care about', () => {
    const alphabet = fc.constantFrom(...'0123456789.eE+-"\\()=!<>:, _abmetrcyplsofAND'.split(''));
    fc.assert(
      fc.property(fc.string({ unit: alphabet, minLength: 200, maxLength: 200 }), (seed) => {
        for (const [name, parse] of PARSERS) checkGrowth(name, parse, (n) => seed.repeat(Math.ceil(n / seed.length)));
      }),
      { numRuns: 5 },
    );
  });
});
