/**
 * The console's words and figures: times, durations, percentages, a verdict, a
 * confidence factor, Cloud Monitoring's reading, and the commands that replay a
 * decision. Pure: every function takes what it shows (and `now` where it says
 * "ago"); nothing here escapes HTML (the templates do, eta with autoEscape).
 */
import {
  verdictFinding,
  type Confidence,
  type DecisionAction,
  type MonitoringCheck,
  type RuleVerdict,
  type SignalKind,
} from '@burnback/contracts';

const SECOND_MS = 1000;
const MINUTE_MS = 60 * SECOND_MS;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

/** Up to three significant digits, without trailing zeros: 2.5, 0.925, 14.4, 1200. */
export function figure(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const abs = Math.abs(x);
  if (abs >= 1000) return String(Math.round(x));
  return String(Number(x.toPrecision(3)));
}

/** A ratio as a percentage: 0.025 → "2.5 %". */
export function percent(ratio: number): string {
  return `${figure(ratio * 100)} %`;
}

/** A length of time in the largest units that say it in one or two numbers: "850 ms", "4.2 s", "3 min 5 s", "2 h 5 min", "3 d 4 h". */
export function duration(ms: number): string {
  const sign = ms < 0 ? '-' : '';
  const a = Math.abs(ms);
  if (!Number.isFinite(a)) return 'forever';
  if (a < SECOND_MS) return `${sign}${Math.round(a)} ms`;
  if (a < MINUTE_MS) return `${sign}${figure(a / SECOND_MS)} s`;
  const pair = (big: number, bigUnit: string, small: number, smallUnit: string) => {
    const whole = Math.floor(a / big);
    const rest = Math.floor((a - whole * big) / small);
    return `${sign}${whole} ${bigUnit}${rest > 0 ? ` ${rest} ${smallUnit}` : ''}`;
  };
  if (a < HOUR_MS) return pair(MINUTE_MS, 'min', SECOND_MS, 's');
  if (a < DAY_MS) return pair(HOUR_MS, 'h', MINUTE_MS, 'min');
  return pair(DAY_MS, 'd', HOUR_MS, 'h');
}

/**
 * How long before (or after) `now` a time is, to the minute: "3 min ago",
 * "in 5 min", "less than a minute ago". Whole minutes, so a page that refreshes
 * itself every few seconds reads the same until a minute has passed.
 */
export function ago(at: string | number, now: number): string {
  const t = typeof at === 'number' ? at : Date.parse(at);
  if (Number.isNaN(t)) return 'at an unknown time';
  const delta = now - t;
  if (Math.abs(delta) < MINUTE_MS) return delta >= 0 ? 'less than a minute ago' : 'in less than a minute';
  return delta > 0 ? `${elapsed(delta)} ago` : `in ${elapsed(-delta)}`;
}

/** A length of time to the minute: "4 min", "1 h 5 min", "less than a minute". */
export function elapsed(ms: number): string {
  return ms < MINUTE_MS ? 'less than a minute' : duration(Math.floor(ms / MINUTE_MS) * MINUTE_MS);
}

/**
 * The time the console's pages are drawn at: now, rounded up to the whole
 * minute. The service's axis ends there and "ago" counts from there, so a page
 * that refreshes itself changes only when its records or the minute do.
 */
export function viewTime(now: number): number {
  return Math.ceil(now / MINUTE_MS) * MINUTE_MS;
}

/** A time as the console prints it: UTC, to the second, "2026-12-06 10:00:04 UTC". */
export function utc(at: string | number): string {
  const t = typeof at === 'number' ? at : Date.parse(at);
  if (Number.isNaN(t)) return String(at);
  return `${new Date(t).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** A time of day on an axis: "10:05" (UTC), or "10:05:30" when the axis needs seconds. */
export function clock(at: number, withSeconds = false): string {
  return new Date(at).toISOString().slice(11, withSeconds ? 19 : 16);
}

/** A signal's value in its own measure: an error ratio as a percentage, a burn rate as a multiple of the budget. */
export function signalFigure(signal: SignalKind, value: number | null): string {
  if (value === null) return 'no value';
  switch (signal) {
    case 'error-ratio':
      return percent(value);
    case 'burn-rate':
      return `${figure(value)}×`;
    default:
      return figure(value);
  }
}

/** The CSS class (and so the colour) of a decision's action. */
export function actionClass(action: DecisionAction): string {
  return `action-${action}`;
}

/** What an action does, in a few words for a legend. */
export const ACTION_MEANINGS: Record<DecisionAction, string> = {
  rollback: 'rolled back',
  recommend: 'recommended a rollback (approval needed)',
  escalate: 'asked a human',
  hold: 'held (a rule refused, for now)',
  ignore: 'ignored (nothing to act on)',
};

/** One verdict of a decision's trace, as the decision page lists it. */
export interface VerdictView {
  /** Its place in the trace, from 1: the rules run in this order. */
  position: number;
  rule: string;
  passed: boolean;
  /** ✓ or ✗, with the word for it: the mark alone must not carry the meaning. */
  mark: '✓' | '✗';
  outcome: 'passed' | 'did not pass';
  /** What it found, in the words the terminal uses: `not paused`, `in cooldown`, `paused (forced)`. */
  found: string;
  /** What the rule read and found. */
  detail: string;
  /** The verdict that decided the action: the first that did not pass (none when all passed). */
  decisive: boolean;
}

export function verdictViews(verdicts: readonly RuleVerdict[]): VerdictView[] {
  const firstFailed = verdicts.findIndex((v) => !v.passed);
  return verdicts.map((v, i) => ({
    position: i + 1,
    rule: v.rule,
    passed: v.passed,
    mark: v.passed ? '✓' : '✗',
    outcome: v.passed ? 'passed' : 'did not pass',
    found: verdictFinding(v),
    detail: v.detail,
    decisive: i === firstFailed,
  }));
}

/** One confidence factor as a bar: its value (0 to 1), its weight, and what it adds to the confidence. */
export interface FactorView {
  name: string;
  value: number;
  weight: number;
  /** weight × value: the factor's share of the confidence. */
  contribution: number;
  detail: string;
  /** The bar's width for the value, and for the weight, in the bar's units (0 to `BAR_WIDTH`). */
  valueWidth: number;
  weightWidth: number;
  contributionWidth: number;
}

/** The width of a full bar (value 1), in SVG user units. */
export const BAR_WIDTH = 200;

const clamp01 = (x: number) => (Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0);
const round3 = (x: number) => Math.round(x * 1000) / 1000;

export interface ConfidenceView {
  value: number;
  threshold: number;
  /** Whether the confidence reaches the bar it was held to. */
  meetsBar: boolean;
  valueWidth: number;
  thresholdX: number;
  factors: FactorView[];
}

export function confidenceView(confidence: Confidence): ConfidenceView {
  return {
    value: confidence.value,
    threshold: confidence.threshold,
    meetsBar: confidence.value >= confidence.threshold,
    valueWidth: round3(clamp01(confidence.value) * BAR_WIDTH),
    thresholdX: round3(clamp01(confidence.threshold) * BAR_WIDTH),
    factors: confidence.factors.map((f) => {
      const contribution = round3(clamp01(f.weight) * clamp01(f.value));
      return {
        name: f.name,
        value: f.value,
        weight: f.weight,
        contribution,
        detail: f.detail,
        valueWidth: round3(clamp01(f.value) * BAR_WIDTH),
        weightWidth: round3(clamp01(f.weight) * BAR_WIDTH),
        contributionWidth: round3(contribution * BAR_WIDTH),
      };
    }),
  };
}

/** Cloud Monitoring's figures as label/value rows, and whether it read a burn on both windows. */
export interface MonitoringView {
  status: 'read' | 'unavailable';
  slo: string;
  burning: boolean | null;
  rows: Array<{ label: string; value: string }>;
}

export function monitoringView(check: MonitoringCheck): MonitoringView {
  const windows = `${duration(check.longWindowSeconds * SECOND_MS)} and ${duration(check.shortWindowSeconds * SECOND_MS)}`;
  if (check.status === 'read') {
    const burning = check.long > check.threshold && check.short > check.threshold;
    return {
      status: 'read',
      slo: check.slo,
      burning,
      rows: [
        { label: 'windows', value: windows },
        { label: 'bar (burn rate both must exceed)', value: `${figure(check.threshold)}×` },
        { label: `burn rate over ${duration(check.longWindowSeconds * SECOND_MS)}`, value: `${figure(check.long)}×` },
        { label: `burn rate over ${duration(check.shortWindowSeconds * SECOND_MS)}`, value: `${figure(check.short)}×` },
        { label: 'read at', value: utc(check.readAt) },
        { label: 'verdict', value: burning ? 'still burning on both windows' : 'not burning on both windows' },
      ],
    };
  }
  return {
    status: 'unavailable',
    slo: check.slo,
    burning: null,
    rows: [
      { label: 'windows', value: windows },
      { label: 'bar', value: `${figure(check.threshold)}×` },
      { label: 'error', value: check.error },
      { label: 'when it stays unavailable', value: check.onUnavailable },
      ...(check.since ? [{ label: 'unavailable since', value: utc(check.since) }] : []),
    ],
  };
}

/**
 * The commands that export a decision with everything it read and replay it
 * (packages/cli: `burnback export --decision ID --out FILE`, `burnback replay FILE`),
 * as an operator runs them in the repository.
 */
export function replayCommands(decisionId: string): { export: string; replay: string; file: string } {
  const file = `${decisionId}.ndjson`;
  return {
    file,
    export: `npm run burnback -- export --decision ${decisionId} --out ${file}`,
    replay: `npm run burnback -- replay ${file}`,
  };
}

/** At most `max` characters, with an ellipsis when cut (for labels on the time axis and in tables). */
export function shorten(text: string, max: number): string {
  if (max < 1) return '';
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

/** The console's links to its own pages. */
export const serviceHref = (name: string) => `/console/services/${encodeURIComponent(name)}`;
export const decisionHref = (id: string) => `/console/decisions/${encodeURIComponent(id)}`;
export const rollbackHref = (id: string) => `/console/rollbacks/${encodeURIComponent(id)}`;
