/**
 * The service page's time axis, as SVG geometry: the releases that served the
 * target, the incidents and their burn, each decision (a dot, coloured by its
 * action) and each rollback from ordered to finished, on one axis ending now.
 * Pure: numbers and words only; the template draws them (and escapes the words).
 */
import type { DecisionAction } from '@burnback/contracts';
import { actionClass, clock, decisionHref, duration, elapsed, rollbackHref, utc } from './format.js';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

/** The shortest stretch the axis shows (a story of seconds still gets room around it). */
export const MIN_DOMAIN_MS = 10 * MINUTE_MS;
/** The longest look back the service page offers. */
export const MAX_HOURS = 24 * 7;
export const WIDTH = 960;
const LEFT = 96;
const RIGHT = WIDTH - 16;
/** The narrowest bar drawn (a rollback of seconds on an axis of hours is still seen, and clicked). */
export const MIN_BAR = 4;
/** The closest two decision dots in one row may be; closer ones go to the next row. */
export const DOT_GAP = 12;
const DOT_ROWS = 3;
const ROLLBACK_ROWS = 2;
/** Ticks on the axis: at most this many. */
export const MAX_TICKS = 8;
const TICK_STEPS = [
  10_000,
  30_000,
  MINUTE_MS,
  2 * MINUTE_MS,
  5 * MINUTE_MS,
  10 * MINUTE_MS,
  15 * MINUTE_MS,
  30 * MINUTE_MS,
  HOUR_MS,
  2 * HOUR_MS,
  3 * HOUR_MS,
  6 * HOUR_MS,
  12 * HOUR_MS,
  DAY_MS,
  2 * DAY_MS,
];

export interface TimelineInput {
  now: number;
  /** How far back to look at most, in hours. */
  hours: number;
  /** The target's serving history, oldest first (TargetRecord.timeline). */
  spans: ReadonlyArray<{
    releaseId: string;
    rollout: string;
    from: string;
    stoppedAt: string | null;
    rollback: boolean;
    burnedAt: string | null;
  }>;
  incidents: ReadonlyArray<{ incidentId: string; startedAt: string; endedAt: string | null; burn: string | null }>;
  decisions: ReadonlyArray<{ decisionId: string; action: DecisionAction; decidedAt: string; reason: string }>;
  rollbacks: ReadonlyArray<{
    rollbackId: string;
    orderedAt: string;
    finishedAt: string | null;
    status: string;
    releaseId: string | null;
    validateOnly: boolean;
  }>;
}

export interface Bar {
  x: number;
  width: number;
  y: number;
  height: number;
  label: string;
  showLabel: boolean;
  title: string;
  className: string;
  href: string | null;
}
export interface Dot {
  x: number;
  y: number;
  className: string;
  title: string;
  href: string;
}
export interface Lane {
  label: string;
  y: number;
  height: number;
}
export interface TimelineGeometry {
  width: number;
  height: number;
  left: number;
  right: number;
  /** Where the axis line is drawn (below the lanes). */
  axisY: number;
  start: number;
  end: number;
  /** "the last 22 min", for the caption. */
  span: string;
  lanes: Lane[];
  ticks: Array<{ x: number; label: string }>;
  releases: Bar[];
  /** A burn first seen on a release: a mark on its bar. */
  burns: Array<{ x: number; y: number; height: number; title: string }>;
  incidents: Bar[];
  decisions: Dot[];
  rollbacks: Bar[];
}

const LANE_HEIGHT = 24;
const LANE_GAP = 10;
const TOP = 8;
const AXIS = 22;

const round1 = (x: number) => Math.round(x * 10) / 10;
const parse = (at: string | null): number | null => {
  if (at === null) return null;
  const t = Date.parse(at);
  return Number.isNaN(t) ? null : t;
};

/**
 * The stretch the axis shows: it ends now and starts at the earliest event of
 * the look-back (with a little room before it), at least MIN_DOMAIN_MS long and
 * never further back than `hours`.
 */
export function domainOf(now: number, hours: number, times: readonly number[]): { start: number; end: number } {
  const earliest = now - Math.min(Math.max(hours, 1), MAX_HOURS) * HOUR_MS;
  const inside = times.filter((t) => t >= earliest && t <= now);
  if (inside.length === 0) return { start: earliest, end: now };
  const first = Math.min(...inside);
  const room = Math.max((now - first) * 0.08, MINUTE_MS);
  const start = Math.max(earliest, Math.min(first - room, now - MIN_DOMAIN_MS));
  return { start, end: now };
}

/** The tick step: the smallest of the round steps that puts at most MAX_TICKS ticks on the axis. */
export function tickStep(domainMs: number): number {
  return TICK_STEPS.find((s) => domainMs / s <= MAX_TICKS) ?? Math.ceil(domainMs / MAX_TICKS / DAY_MS) * DAY_MS;
}

/** Ticks at whole multiples of the step (UTC) within the domain, each with its label (a time, or at midnight its date). */
export function ticksOf(start: number, end: number, x: (t: number) => number): Array<{ x: number; label: string }> {
  const step = tickStep(end - start);
  const ticks: Array<{ x: number; label: string }> = [];
  for (let t = Math.ceil(start / step) * step; t <= end; t += step)
    // Midnight on an axis of hours or days is labelled with its date (MM-DD), every other tick with its time.
    ticks.push({
      x: x(t),
      label: step >= HOUR_MS && t % DAY_MS === 0 ? new Date(t).toISOString().slice(5, 10) : clock(t, step < MINUTE_MS),
    });
  return ticks;
}

/**
 * Rows for marks at `xs` (in that order) so that two marks in one row are at
 * least `gap` apart: each goes to the first row whose last mark is far enough
 * behind, or, when none is, to the row whose last mark is furthest behind.
 */
export function stackRows(xs: readonly number[], gap: number, rows: number): number[] {
  const last: number[] = Array.from({ length: Math.max(1, rows) }, () => Number.NEGATIVE_INFINITY);
  return xs.map((x) => {
    let row = last.findIndex((l) => x - l >= gap);
    if (row < 0) row = last.indexOf(Math.min(...last));
    last[row] = x;
    return row;
  });
}

/** Roughly how wide a label is drawn (11 px sans-serif), to know whether it fits its bar. */
const labelFits = (label: string, width: number) => [...label].length * 6.6 + 8 <= width;

export function timelineGeometry(input: TimelineInput): TimelineGeometry {
  const { now } = input;
  const times = [
    ...input.spans.map((s) => parse(s.from)),
    ...input.incidents.map((i) => parse(i.startedAt)),
    ...input.decisions.map((d) => parse(d.decidedAt)),
    ...input.rollbacks.map((r) => parse(r.orderedAt)),
  ].filter((t): t is number => t !== null);
  const { start, end } = domainOf(now, input.hours, times);
  const scale = (RIGHT - LEFT) / Math.max(1, end - start);
  const x = (t: number) => round1(LEFT + (Math.min(Math.max(t, start), end) - start) * scale);
  const bar = (from: number, to: number) => {
    const x0 = x(from);
    const width = Math.max(MIN_BAR, x(to) - x0);
    // A bar that ends at the right edge still fits: it grows to the left.
    return x0 + width > RIGHT ? { x: round1(RIGHT - width), width: round1(width) } : { x: x0, width: round1(width) };
  };

  let y = TOP;
  const lane = (label: string, height: number): Lane => {
    const l = { label, y, height };
    y += height + LANE_GAP;
    return l;
  };
  const releasesLane = lane('releases', LANE_HEIGHT);
  const incidentsLane = lane('incidents', LANE_HEIGHT);
  const decisionsLane = lane('decisions', DOT_ROWS * 14);
  const rollbacksLane = lane('rollbacks', ROLLBACK_ROWS * 14);
  const height = y - LANE_GAP + AXIS;

  const releases: Bar[] = [];
  const burns: TimelineGeometry['burns'] = [];
  input.spans.forEach((s, i) => {
    const from = parse(s.from);
    if (from === null) return;
    const next = i + 1 < input.spans.length ? parse(input.spans[i + 1]!.from) : null;
    const stopped = parse(s.stoppedAt);
    const to = Math.min(next ?? now, stopped ?? now, now);
    if (to < start || from > end || to < from) return;
    const b = bar(from, to);
    const label = s.releaseId;
    releases.push({
      ...b,
      y: releasesLane.y,
      height: LANE_HEIGHT,
      label,
      showLabel: labelFits(label, b.width),
      title: `${s.releaseId} served from ${utc(from)}${to < now ? ` to ${utc(to)}` : ' until now'} (${duration(to - from)}; rollout ${s.rollout})`,
      className: `release release-${i % 2 === 0 ? 'even' : 'odd'}${s.rollback ? ' release-rollback' : ''}`,
      href: null,
    });
    const burned = parse(s.burnedAt);
    if (burned !== null && burned >= start && burned <= end)
      burns.push({ x: x(burned), y: releasesLane.y, height: LANE_HEIGHT, title: `a burn on ${s.releaseId} first seen at ${utc(burned)}` });
  });

  const incidents: Bar[] = [];
  for (const inc of input.incidents) {
    const from = parse(inc.startedAt);
    if (from === null) continue;
    const to = Math.min(parse(inc.endedAt) ?? now, now);
    if (to < start || from > end) continue;
    const b = bar(from, Math.max(from, to));
    const label = inc.burn ?? inc.incidentId;
    incidents.push({
      ...b,
      y: incidentsLane.y,
      height: LANE_HEIGHT,
      label,
      showLabel: labelFits(label, b.width),
      title: `incident ${inc.incidentId}${inc.burn ? `: ${inc.burn}` : ''}; from ${utc(from)}${inc.endedAt ? ` to ${utc(to)}` : ', still open'}`,
      className: inc.endedAt ? 'incident incident-closed' : 'incident incident-open',
      href: null,
    });
  }

  const dots = input.decisions
    .map((d) => ({ d, t: parse(d.decidedAt) }))
    .filter((e): e is { d: TimelineInput['decisions'][number]; t: number } => e.t !== null && e.t >= start && e.t <= end)
    .sort((a, b) => a.t - b.t || (a.d.decisionId < b.d.decisionId ? -1 : 1));
  const dotRows = stackRows(
    dots.map(({ t }) => x(t)),
    DOT_GAP,
    DOT_ROWS,
  );
  const decisions: Dot[] = dots.map(({ d, t }, i) => ({
    x: x(t),
    y: decisionsLane.y + 7 + dotRows[i]! * 14,
    className: `decision ${actionClass(d.action)}`,
    title: `${d.action} at ${utc(t)}: ${d.reason}`,
    href: decisionHref(d.decisionId),
  }));

  const spans = input.rollbacks
    .map((r) => ({ r, from: parse(r.orderedAt), to: parse(r.finishedAt) }))
    .filter((e): e is { r: TimelineInput['rollbacks'][number]; from: number; to: number | null } => e.from !== null)
    .filter((e) => (e.to ?? now) >= start && e.from <= end)
    .sort((a, b) => a.from - b.from || (a.r.rollbackId < b.r.rollbackId ? -1 : 1));
  const rollbackRows = stackRows(
    spans.map((e) => x(e.from)),
    MIN_BAR * 3,
    ROLLBACK_ROWS,
  );
  const rollbacks: Bar[] = spans.map(({ r, from, to }, i) => {
    const b = bar(from, Math.max(from, Math.min(to ?? now, now)));
    const label = `${r.validateOnly ? 'validate' : 'rollback'} ${r.status}${r.releaseId ? ` → ${r.releaseId}` : ''}`;
    return {
      ...b,
      y: rollbacksLane.y + rollbackRows[i]! * 14,
      height: 12,
      label,
      showLabel: labelFits(label, b.width),
      title: `${label}: ordered ${utc(from)}, ${to === null ? `in flight for ${elapsed(now - from)}` : `finished ${utc(to)} after ${duration(to - from)}`}`,
      className: `rollback rollback-${r.status}`,
      href: rollbackHref(r.rollbackId),
    };
  });

  return {
    width: WIDTH,
    height,
    left: LEFT,
    right: RIGHT,
    axisY: height - AXIS,
    start,
    end,
    span: `the last ${duration(end - start)}`,
    lanes: [releasesLane, incidentsLane, decisionsLane, rollbacksLane],
    ticks: ticksOf(start, end, x),
    releases,
    burns,
    incidents,
    decisions,
    rollbacks,
  };
}
