import {
  BurnPolicies,
  BurnPolicySources,
  BurnRateWindows,
  Comparisons,
  SignalKinds,
  type BurnPolicy,
  type Comparison,
} from '@burnback/contracts';
import type { ServiceConfig } from '@burnback/platform';
import { nothing, unsupported, type SignalClassification, type SignalValues } from '../signal.js';
import {
  burnSeriesOf,
  expressionOfGeneratorUrl,
  prometheusDurationSeconds,
  labelMatchersOf,
  readRuleExpression,
  type RuleComparison,
  type RuleExpression,
} from './prometheus-rule.js';

/**
 * Which service a Prometheus alert belongs to, and what it measures (pure).
 * The rules, in order, are in services/ingest/README.md ("Alertmanager"); in
 * short: the `burnback_service` label, then `service` when something else on the
 * alert corroborates it, then the service whose `match.labels` the alert carries;
 * a rule whose selector names another service → unsupported; Sloth's and Pyrra's
 * multi-window burn-rate rules on the fast (1 h / 5 min) or slow (6 h / 30 min)
 * windows → burn rate, a threshold on a metric the service's config names →
 * error ratio, anything else → unsupported with the reason.
 */

/** The labels that name a Burnback service on an alert, most explicit first. */
export const AlertLabels = {
  service: 'burnback_service',
  genericService: 'service',
  project: 'project_id',
  slothService: 'sloth_service',
  slothWindow: 'sloth_window',
  pyrraShort: 'short',
  pyrraLong: 'long',
} as const;
/** The labels a rule's selector names a service by: a selector's value for them must be the mapped service's. */
const SERVICE_NAMING_LABELS: ReadonlySet<string> = new Set([AlertLabels.service, AlertLabels.genericService, AlertLabels.slothService]);
/** The annotation that carries the alert's value (`burnback_value: '{{ $value }}'` in the rule). */
export const VALUE_ANNOTATION = 'burnback_value';

/** The parts of a service's config an alert is mapped and classified with. */
export type AlertServiceConfig = Pick<ServiceConfig, 'name' | 'project' | 'match' | 'signals'> & {
  policy: Pick<ServiceConfig['policy'], 'fastBurnRate' | 'slowBurnRate' | 'sloGoal'>;
};

export type AlertMapping<S> = { kind: 'service'; service: S } | { kind: 'unmapped'; reason: string; misconfigured: boolean };

/** Why the alert's labels say it is not this service's (another project, another `match.labels` value), or null. */
function contradiction(labels: Readonly<Record<string, string>>, service: AlertServiceConfig): string | null {
  const project = Object.hasOwn(labels, AlertLabels.project) ? labels[AlertLabels.project] : undefined;
  if (project !== undefined && project !== service.project) return `project_id "${project}" (the service is in ${service.project})`;
  for (const [key, value] of Object.entries(service.match.labels ?? {})) {
    if (Object.hasOwn(labels, key) && labels[key] !== value) return `${key}="${labels[key]}" (the service matches ${key}="${value}")`;
  }
  return null;
}

/**
 * Whether something on the alert besides a generic `service` label says it is this
 * service's: its `project_id` is the service's project, or it carries every one of
 * the service's `match.labels` (at least one) with the same value.
 */
function corroborates(labels: Readonly<Record<string, string>>, service: AlertServiceConfig): boolean {
  if (service.project !== '' && Object.hasOwn(labels, AlertLabels.project) && labels[AlertLabels.project] === service.project) return true;
  const wanted = Object.entries(service.match.labels ?? {});
  return wanted.length > 0 && wanted.every(([k, v]) => Object.hasOwn(labels, k) && labels[k] === v);
}

/**
 * The configured service an alert belongs to, first rule that applies:
 * 1. its `burnback_service` label names one (a name no service has is a config problem);
 * 2. its `service` label names one, and the alert's `project_id` is the service's project or it
 *    carries all of the service's (non-empty) `match.labels`: `service` is a label every
 *    environment's Prometheus may set, so alone it maps nothing (unmapped, saying what to add);
 *    another name falls through;
 * 3. the one service whose `match.labels` it carries, every one with the same value.
 * A label the service matches on, or `project_id`, with another value than the service's is
 * another environment's alert: unmapped. Names are looked up in the Map, never an object.
 */
export function mapAlertToService<S extends AlertServiceConfig>(
  labels: Readonly<Record<string, string>>,
  services: ReadonlyMap<string, S>,
): AlertMapping<S> {
  const named = (label: string, explicit: boolean): AlertMapping<S> | null => {
    const name = Object.hasOwn(labels, label) ? labels[label]! : '';
    const service = name === '' ? undefined : services.get(name);
    if (service === undefined)
      return explicit && name !== ''
        ? { kind: 'unmapped', reason: `label ${label}="${name}" names no configured service`, misconfigured: true }
        : null;
    const mismatch = contradiction(labels, service);
    if (mismatch !== null)
      return {
        kind: 'unmapped',
        reason: `label ${label}="${name}" names a service this alert is not on: ${mismatch}`,
        misconfigured: explicit,
      };
    if (explicit || corroborates(labels, service)) return { kind: 'service', service };
    const wanted = Object.entries(service.match.labels ?? {}).map(([k, v]) => `${k}="${v}"`);
    return {
      kind: 'unmapped',
      reason:
        `label ${label}="${name}" alone does not place the alert, as any environment's Prometheus may set it: it carries neither ` +
        `${AlertLabels.project}="${service.project}" nor ${wanted.length > 0 ? `all of ${name}'s match.labels {${wanted.join(', ')}}` : `match.labels (${name} has none)`}. ` +
        `Add ${AlertLabels.service}="${name}" to the rule's labels, or give ${name} match.labels in the config that only its alerts carry (a cluster, a namespace)`,
      misconfigured: true,
    };
  };
  const byName = named(AlertLabels.service, true) ?? named(AlertLabels.genericService, false);
  if (byName !== null) return byName;
  const matching = [...services.values()].filter((s) => {
    const wanted = Object.entries(s.match.labels ?? {});
    return wanted.length > 0 && wanted.every(([k, v]) => Object.hasOwn(labels, k) && labels[k] === v);
  });
  const placed = matching.filter((s) => contradiction(labels, s) === null);
  if (placed.length === 1) return { kind: 'service', service: placed[0]! };
  if (placed.length > 1)
    return { kind: 'unmapped', reason: `the alert matches several services: ${placed.map((s) => s.name).join(', ')}`, misconfigured: true };
  const elsewhere = matching.map((s) => `${s.name} is not on ${contradiction(labels, s)!}`);
  return {
    kind: 'unmapped',
    reason: `no configured service matches the alert's labels ${JSON.stringify(labels)}${elsewhere.length ? `: ${elsewhere.join('; ')}` : ''} (name one with burnback_service, or give it match.labels)`,
    misconfigured: false,
  };
}

/**
 * The value a selector's `label` must have to measure `service`: its `match.labels`
 * value when the config names the label; else the service's name for the labels
 * that name a service (`burnback_service`, `service`, `sloth_service`); else none
 * to check (Pyrra's `slo` names an SLO, not a service: checked only when
 * `match.labels` names it).
 */
function selectorValueOf(label: string, service: AlertServiceConfig): string | null {
  const matched = service.match.labels ?? {};
  if (Object.hasOwn(matched, label)) return matched[label]!;
  return SERVICE_NAMING_LABELS.has(label) ? service.name : null;
}

/**
 * Why the rule measures another service than the one the alert is mapped to (a
 * selector matcher of a service or SLO label, or of one of the service's
 * `match.labels`, that is not `label="<the service's value>"`), or null.
 */
export function selectorContradiction(rule: RuleExpression, service: AlertServiceConfig): string | null {
  for (const c of rule.flat()) {
    const matchers = labelMatchersOf(c.matchers);
    if (matchers === null) return `the rule's selector {${quote(c.matchers)}} cannot be read to tell which service it measures`;
    for (const m of matchers) {
      const expected = selectorValueOf(m.name, service);
      if (expected === null || (m.operator === '=' && m.value === expected)) continue;
      const how = Object.hasOwn(service.match.labels ?? {}, m.name) ? 'its match.labels' : 'its name';
      return (
        `the rule's selector ${c.metric}{${quote(m.text)}} is not ${service.name}'s, the service the alert maps to ` +
        `(${m.name}="${expected}", ${how}): another service's SLO never rolls it back` +
        (m.operator === '=' ? `; if the rule is ${service.name}'s, set match.labels.${m.name} to the rule's value in its config` : '')
      );
    }
  }
  return null;
}

/** The comparison direction as Monitoring spells it (the AlertEvent's `comparison`). */
const COMPARISON_OF: Partial<Record<RuleComparison['operator'], Comparison>> = {
  '>': Comparisons.gt,
  '>=': Comparisons.ge,
  '<': Comparisons.lt,
  '<=': Comparisons.le,
  '==': Comparisons.eq,
  '!=': Comparisons.ne,
};

/** At most this much of an expression is quoted in a reason. */
const QUOTED = 300;
const quote = (expr: string) => (expr.length > QUOTED ? `${expr.slice(0, QUOTED)}…` : expr);
const span = (seconds: number) =>
  seconds % 86400 === 0 ? `${seconds / 86400} d` : seconds % 3600 === 0 ? `${seconds / 3600} h` : `${+(seconds / 60).toFixed(2)} min`;
/** A number as a reason writes it, without float noise (14.4 × 0.01 is 0.14400000000000002). */
const num = (n: number) => +n.toPrecision(12);
/** Equal but for float noise (Sloth writes 1 − 0.999 as 0.0009999999999999432). */
const near = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b));

/** The burn policy whose windows a pair of windows is (within a quarter: Pyrra scales them with its SLO window), or null. */
export function burnPolicyOfWindows(longSeconds: number, shortSeconds: number): BurnPolicy | null {
  for (const policy of [BurnPolicies.fast, BurnPolicies.slow]) {
    const w = BurnRateWindows[policy];
    if (Math.abs(longSeconds - w.longSeconds) <= w.longSeconds / 4 && Math.abs(shortSeconds - w.shortSeconds) <= w.shortSeconds / 4)
      return policy;
  }
  return null;
}

/** What an alert measures, and its rule's threshold as the rule compares it (an error ratio; factor × budget for a burn rate). */
export interface AlertClassification {
  signal: SignalClassification;
  thresholdValue: number | null;
}

/** Classifies what a Prometheus alert measures, from its rule's expression and labels, for the service it was mapped to. */
export function classifyAlert(
  alert: { labels: Readonly<Record<string, string>>; generatorURL?: string | null | undefined },
  service: AlertServiceConfig,
  values: SignalValues,
): AlertClassification {
  const expr = expressionOfGeneratorUrl(alert.generatorURL);
  if (expr === null)
    return {
      signal: unsupported(null, "the alert's generatorURL carries no rule expression (g0.expr), so what it measures is unknown"),
      thresholdValue: null,
    };
  const rule = readRuleExpression(expr);
  if (rule === null)
    return {
      signal: unsupported(
        null,
        `the rule's expression is not one Burnback reads (a Sloth or Pyrra multi-window burn rate, or one metric above a threshold): ${quote(expr)}`,
      ),
      thresholdValue: null,
    };
  const comparisons = rule.flat();
  const first = comparisons[0]!;
  const comparison = COMPARISON_OF[first.operator] ?? null;
  const thresholdValue = first.threshold.value;
  // Another service's SLO (a staging copy's, a neighbour's) must never pass for this one's.
  const foreign = selectorContradiction(rule, service);
  if (foreign !== null) return { signal: unsupported(comparison, foreign), thresholdValue };
  if (comparisons.length === 1 && first.threshold.factor === null)
    return { signal: classifyErrorRatio(first, service, values, comparison), thresholdValue };
  return classifyBurnRate(rule, alert.labels, service, values, comparison);
}

function classifyErrorRatio(
  c: RuleComparison,
  service: AlertServiceConfig,
  values: SignalValues,
  comparison: Comparison | null,
): SignalClassification {
  const named = service.signals.errorRatio?.prometheusMetrics ?? [];
  if (!named.includes(c.metric))
    return unsupported(
      comparison,
      `a threshold on ${c.metric}, which the service's config does not name in signals.errorRatio.prometheusMetrics`,
    );
  if (c.operator !== '>' && c.operator !== '>=')
    return unsupported(comparison, `an error ratio alerting ${c.operator} ${num(c.threshold.value)} does not fire on errors`);
  const outOfRange = [values.observed, c.threshold.value].find((v) => v !== null && (v < 0 || v > 1));
  if (outOfRange !== undefined) return unsupported(comparison, `${outOfRange} is not a ratio between 0 and 1`);
  return { ...nothing(comparison), signal: SignalKinds.errorRatio, signalValue: values.observed, signalThreshold: c.threshold.value };
}

function classifyBurnRate(
  rule: RuleComparison[][],
  labels: Readonly<Record<string, string>>,
  service: AlertServiceConfig,
  values: SignalValues,
  comparison: Comparison | null,
): AlertClassification {
  const comparisons = rule.flat();
  const first = comparisons[0]!;
  const refuse = (reason: string): AlertClassification => ({
    signal: unsupported(comparison, reason),
    thresholdValue: first.threshold.value,
  });
  const firstSeries = burnSeriesOf(first.metric);
  for (const c of comparisons) {
    const series = burnSeriesOf(c.metric);
    if (series === null || c.threshold.factor === null)
      return refuse(
        `${c.metric} ${c.operator} ${num(c.threshold.value)} is not a burn rate Burnback reads (Sloth's slo:sli_error:ratio_rate<window> or Pyrra's <name>:burnrate<window> above factor × error budget)`,
      );
    if (c.operator !== '>' && c.operator !== '>=') return refuse(`a burn rate alerting ${c.operator} does not fire on a burn`);
    if (series.tool !== firstSeries!.tool || c.matchers !== first.matchers)
      return refuse(`the rule mixes series (${first.metric}{${first.matchers}}, ${c.metric}{${c.matchers}})`);
  }
  const budget = first.threshold.budget!;
  if (comparisons.some((c) => !near(c.threshold.budget!, budget)))
    return refuse('the rule compares its windows against different error budgets');
  const serviceBudget = Number((1 - service.policy.sloGoal).toPrecision(12));
  if (!near(budget, serviceBudget))
    return refuse(
      `the rule's error budget ${+budget.toPrecision(6)} is not the service's (1 - policy.sloGoal = ${serviceBudget}): its burn rate would be misread; set policy.sloGoal to the SLO's objective`,
    );
  for (const branch of rule) {
    if (branch.length !== 2 || branch[0]!.threshold.factor !== branch[1]!.threshold.factor)
      return refuse(
        `a burn rate over ${branch.length === 1 ? 'one window' : `${branch.length} windows or unequal factors`} is not a multi-window alert (a long window confirmed by a short one)`,
      );
  }
  const branch = firingBranch(rule, labels);
  if (typeof branch === 'string') return refuse(branch);
  const [a, b] = branch.map((c) => burnSeriesOf(c.metric)!.windowSeconds) as [number, number];
  const long = Math.max(a, b);
  const short = Math.min(a, b);
  const said = windowLabels(labels);
  if (said !== null && (said.long !== long || said.short !== short))
    return refuse(`the alert's labels say windows ${span(said.long)} / ${span(said.short)}, its rule ${span(long)} / ${span(short)}`);
  const policy = burnPolicyOfWindows(long, short);
  if (policy === null)
    return refuse(
      `a burn over ${span(long)} / ${span(short)} is neither the fast policy's windows (1 h / 5 min) nor the slow one's (6 h / 30 min): a ticket, not a rollback`,
    );
  const factor = branch[0]!.threshold.factor!;
  const signal: SignalClassification = {
    signal: SignalKinds.burnRate,
    // Prometheus's $value of these rules is the short window's error ratio: the value's window.
    lookbackSeconds: short,
    comparison,
    signalValue: values.observed === null ? null : Number((values.observed / budget).toPrecision(12)),
    signalThreshold: factor,
    sloName: null,
    sloSelector: null,
    burnPolicy: policy,
    burnPolicySource: BurnPolicySources.siblingWindows,
    burnWindows: {
      longSeconds: long,
      shortSeconds: short,
      threshold: policy === BurnPolicies.fast ? service.policy.fastBurnRate : service.policy.slowBurnRate,
    },
    unsupportedReason: null,
  };
  return { signal, thresholdValue: branch[0]!.threshold.value };
}

/**
 * The branch of an `or` that fired: the only one, or the one whose window the
 * alert's `sloth_window` label names (Sloth's page rule joins its fast and slow
 * windows with `or`); else why it cannot be known.
 */
function firingBranch(rule: RuleComparison[][], labels: Readonly<Record<string, string>>): RuleComparison[] | string {
  if (rule.length === 1) return rule[0]!;
  const label = Object.hasOwn(labels, AlertLabels.slothWindow) ? labels[AlertLabels.slothWindow]! : null;
  const seconds = label === null ? null : prometheusDurationSeconds(label);
  if (seconds === null)
    return `the rule joins ${rule.length} burn policies with or, and the alert does not say which fired (no ${AlertLabels.slothWindow} label)`;
  const named = rule.filter((branch) => branch.some((c) => burnSeriesOf(c.metric)!.windowSeconds === seconds));
  return named.length === 1 ? named[0]! : `${AlertLabels.slothWindow}="${label}" is not the window of exactly one branch of the rule`;
}

/** Pyrra's `long` and `short` labels, when the alert carries both and they read as durations. */
function windowLabels(labels: Readonly<Record<string, string>>): { long: number; short: number } | null {
  const read = (key: string) => (Object.hasOwn(labels, key) ? prometheusDurationSeconds(labels[key]!) : null);
  const long = read(AlertLabels.pyrraLong);
  const short = read(AlertLabels.pyrraShort);
  return long === null || short === null ? null : { long, short };
}
