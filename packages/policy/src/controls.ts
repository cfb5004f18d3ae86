import {
  Modes,
  RuleNames,
  Weekdays,
  type Acknowledgement,
  type BreakerRecord,
  type AlertEvent,
  type FleetView,
  type FreezeWindow,
  type Pause,
  type PolicySettings,
  type RuleVerdict,
} from '@burnback/contracts';

/** What an operator (or the fleet) says about a decision, besides the service's own state. Every part is optional. */
export interface DecisionControls {
  /** The service's pause, if an operator set one (it may have expired by the event's time). */
  pause?: Pause | null;
  /** The incident's acknowledgement, if a human gave one. */
  acknowledgement?: Acknowledgement | null;
  /** The fleet as the breaker reads it; null = not read (then the breaker cannot trip, and says so). */
  fleet?: FleetView | null;
  /**
   * When the decider evaluates the decision (its clock, recorded for replay).
   * Freeze windows are judged at this time, and the breaker's stamps are this
   * time: a backlog decided late must not roll back inside a freeze, nor count
   * its burns as old. Absent: the event's time.
   */
  evaluatedAt?: string | null;
}

const HOUR_MS = 3_600_000;
/** How long the breaker's document keeps a burn (the longest breaker window it serves is capped by it). */
export const BREAKER_KEEP_MS = HOUR_MS;

/**
 * The fleet the breaker counts: what the per-service stamps showed (read before
 * the transaction), joined with the breaker document's exact record (read in
 * it), burns within `windowMinutes` and rollbacks in flight for less than an hour.
 */
export function mergeFleet(view: FleetView | null, breaker: BreakerRecord | null, at: number, windowMinutes: number): FleetView {
  const burning = new Set(view?.burningServices ?? []);
  const inFlight = new Set(view?.inFlight ?? []);
  for (const b of breaker?.burns ?? []) if (Date.parse(b.at) >= at - windowMinutes * 60_000) burning.add(b.service);
  for (const f of breaker?.inFlight ?? []) if (Date.parse(f.since) >= at - HOUR_MS) inFlight.add(f.service);
  return { burningServices: [...burning].sort(), inFlight: [...inFlight].sort(), readAt: new Date(at).toISOString() };
}

/**
 * The breaker document after a rollback-bound decision of `service` at `at`: its
 * burn is recorded (one per service, the latest), a rollback it ordered is in
 * flight, and whatever is older than the document keeps is dropped.
 */
export function recordOnBreaker(breaker: BreakerRecord | null, service: string, at: string, rollbackId: string | null): BreakerRecord {
  const now = Date.parse(at);
  const burns = (breaker?.burns ?? []).filter((b) => b.service !== service && Date.parse(b.at) >= now - BREAKER_KEEP_MS);
  const inFlight = (breaker?.inFlight ?? []).filter((f) => Date.parse(f.since) >= now - HOUR_MS);
  return {
    burns: [...burns, { service, at }],
    inFlight: rollbackId === null ? inFlight : [...inFlight.filter((f) => f.rollbackId !== rollbackId), { service, rollbackId, since: at }],
    updatedAt: at,
  };
}

/** The breaker document once a rollback finished: no longer in flight. Unchanged (the same object) when it was not listed. */
export function releaseOnBreaker(breaker: BreakerRecord, rollbackId: string): BreakerRecord {
  if (!breaker.inFlight.some((f) => f.rollbackId === rollbackId)) return breaker;
  return { ...breaker, inFlight: breaker.inFlight.filter((f) => f.rollbackId !== rollbackId) };
}

/** The local weekday (0 = Sunday) and minute of the day of `at` in `timeZone`. */
const formatters = new Map<string, Intl.DateTimeFormat>();
export function localTime(at: number, timeZone: string): { day: number; minute: number } {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formatters.set(timeZone, format);
  }
  let day = 0;
  let hour = 0;
  let minute = 0;
  for (const part of format.formatToParts(at)) {
    if (part.type === 'weekday') day = Weekdays.indexOf(part.value.toLowerCase() as (typeof Weekdays)[number]);
    else if (part.type === 'hour') hour = Number(part.value);
    else if (part.type === 'minute') minute = Number(part.value);
  }
  return { day, minute: hour * 60 + minute };
}

const minutesOf = (clock: string): number => Number(clock.slice(0, 2)) * 60 + Number(clock.slice(3, 5));

/** Whether `window` is in force at `at` (epoch ms). */
export function freezeInForce(window: FreezeWindow, at: number): boolean {
  if ('from' in window) return Date.parse(window.from) <= at && at < Date.parse(window.to);
  const { day, minute } = localTime(at, window.timeZone);
  const start = minutesOf(window.start);
  const end = minutesOf(window.end);
  const on = (d: number): boolean => window.days.includes(Weekdays[d]!);
  // Within one day: from start to end on a named day. Past midnight: from start to midnight on a named day,
  // then from midnight to end on the day after one.
  if (start < end) return on(day) && minute >= start && minute < end;
  return (on(day) && minute >= start) || (on((day + 6) % 7) && minute < end);
}

/** How far ahead freezeEndsAt looks: a week and a day covers every weekly window and its overnight tail. */
const FREEZE_HORIZON_MS = 8 * 24 * HOUR_MS;
const MINUTE_MS = 60_000;

/**
 * The first moment at or after `at` when none of the policy's freeze windows is
 * in force (epoch ms): `at` itself when none is; null when they stay in force
 * for longer than eight days (windows back to back). Weekly windows start and
 * end on whole minutes of local time, so minutes are enough; a range ends at its `to`.
 */
export function freezeEndsAt(policy: PolicySettings, at: number): number | null {
  const inForce = (t: number) => policy.freeze.some((w) => freezeInForce(w, t));
  if (!inForce(at)) return at;
  let t = at;
  while (t - at <= FREEZE_HORIZON_MS) {
    // Jump over a range in force to its end; otherwise to the next whole minute.
    const range = policy.freeze.find((w) => 'from' in w && freezeInForce(w, t));
    t = range && 'to' in range ? Date.parse(range.to) : (Math.floor(t / MINUTE_MS) + 1) * MINUTE_MS;
    if (!inForce(t)) return t;
  }
  return null;
}

/** A freeze window in words, for the decision's trace. */
export function describeFreeze(window: FreezeWindow): string {
  const why = window.reason ? ` (${window.reason})` : '';
  if ('from' in window) return `freeze from ${window.from} to ${window.to}${why}`;
  const end = minutesOf(window.end) <= minutesOf(window.start) && window.end !== '24:00' ? `${window.end} the next day` : window.end;
  return `weekly freeze ${window.days.join(', ')} ${window.start}–${end} ${window.timeZone}${why}`;
}

/** Acknowledged: a human has seen the incident, so Burnback never rolls it back automatically afterwards (hold). */
export function acknowledgedVerdict(event: AlertEvent, ack: Acknowledgement | null | undefined): RuleVerdict {
  const rule = RuleNames.acknowledged;
  if (!ack) return { rule, passed: true, detail: `incident ${event.incidentId} is not acknowledged` };
  return {
    rule,
    passed: false,
    detail: `incident ${event.incidentId} was acknowledged by ${ack.by} at ${ack.at}${ack.reason ? ` (${ack.reason})` : ''}: a human owns it, no automatic rollback`,
  };
}

/** Paused: an operator paused the service until a time after the event's (hold). */
export function pausedVerdict(service: string, pause: Pause | null | undefined, now: number): RuleVerdict {
  const rule = RuleNames.paused;
  if (!pause) return { rule, passed: true, detail: `${service} is not paused` };
  if (Date.parse(pause.until) <= now) return { rule, passed: true, detail: `${service}'s pause by ${pause.by} expired at ${pause.until}` };
  return { rule, passed: false, detail: `${service} is paused until ${pause.until} by ${pause.by}: ${pause.reason}` };
}

/** Freeze: one of the policy's freeze windows is in force at the event's time (escalate: the burn needs a human). */
export function freezeVerdict(policy: PolicySettings, now: number): RuleVerdict {
  const rule = RuleNames.freeze;
  const active = policy.freeze.find((w) => freezeInForce(w, now));
  if (active) return { rule, passed: false, detail: `${describeFreeze(active)} is in force: no automatic rollback` };
  return {
    rule,
    passed: true,
    detail: policy.freeze.length === 0 ? 'no freeze window is configured' : `none of ${policy.freeze.length} freeze window(s) is in force`,
  };
}

/**
 * The fleet circuit breaker: more than breakerBurningServices services burning
 * within breakerWindowMinutes (this one included), or breakerInFlightRollbacks
 * rollbacks already in flight fleet-wide, holds further rollbacks (escalate:
 * something bigger than one release is wrong, or too much is changing at once).
 */
export function fleetBreakerVerdict(event: AlertEvent, policy: PolicySettings, fleet: FleetView | null | undefined): RuleVerdict {
  const rule = RuleNames.fleetBreaker;
  if (!fleet) return { rule, passed: true, detail: 'the fleet was not read: the breaker cannot trip' };
  const others = fleet.burningServices.filter((s) => s !== event.service);
  const burning = others.length + 1;
  const inFlight = fleet.inFlight.filter((s) => s !== event.service).length;
  const window = `${policy.breakerWindowMinutes} min`;
  if (burning > policy.breakerBurningServices)
    return {
      rule,
      passed: false,
      detail: `${burning} services burning within ${window} (${[event.service, ...others].slice(0, 10).join(', ')}${burning > 10 ? ', …' : ''}) is more than ${policy.breakerBurningServices}: a fleet-wide problem is not one release's fault`,
    };
  if (inFlight >= policy.breakerInFlightRollbacks)
    return {
      rule,
      passed: false,
      detail: `${inFlight} rollbacks already in flight fleet-wide (at most ${policy.breakerInFlightRollbacks} at once): wait for them or decide by hand`,
    };
  return {
    rule,
    passed: true,
    detail: `${burning} service(s) burning within ${window} (at most ${policy.breakerBurningServices}); ${inFlight} rollback(s) in flight elsewhere (fewer than ${policy.breakerInFlightRollbacks})`,
  };
}

/** Mode: only `auto` rolls back; `recommend` orders a validate-only rollback; `observe` records what it would do. */
export function modeVerdict(policy: PolicySettings): RuleVerdict {
  const rule = RuleNames.mode;
  switch (policy.mode) {
    case Modes.auto:
      return { rule, passed: true, detail: 'mode auto: rollbacks are ordered' };
    case Modes.recommend:
      return { rule, passed: false, detail: 'mode recommend: a validate-only rollback proves it would be accepted; nothing changes' };
    case Modes.observe:
      return { rule, passed: false, detail: 'mode observe: decisions are recorded, nothing is commanded' };
    default: {
      const never: never = policy.mode;
      // Stryker disable next-line StringLiteral: unreachable; the compiler proves the switch exhaustive
      throw new Error(`unknown mode ${String(never)}`);
    }
  }
}

/** What the executor knows of a command when it re-reads the controls right before it rolls back. */
export interface CommandControls {
  incidentId: string;
  service: string;
  /**
   * A manual request bypasses the acknowledgement (a human asked); with force, the pause and the freeze too.
   * An approval of a recommendation (`approves`: its decision id) passes mode recommend.
   */
  manual?: { force: boolean; approves?: string | null } | null;
  validateOnly?: boolean;
}

/**
 * Why a command must not be carried out now, or null: an operator paused the
 * service, acknowledged the incident, a freeze window began, or the service's
 * mode is no longer `auto` (nor `recommend`, for an approved recommendation),
 * since the decision (a decision made under any of them would not have ordered
 * a rollback, unless a manual request forced it).
 * `policy` null: the executor does not know the service's settings, so only
 * the pause and the acknowledgement are checked. A validate-only command
 * changes nothing and is never stopped.
 */
export function supersedingControl(
  command: CommandControls,
  now: number,
  controls: { pause: Pause | null; acknowledgement: Acknowledgement | null; policy: PolicySettings | null },
): string | null {
  if (command.validateOnly) return null;
  const force = command.manual?.force === true;
  const { pause, acknowledgement, policy } = controls;
  if (!force && pause && Date.parse(pause.until) > now)
    return `${command.service} was paused until ${pause.until} by ${pause.by} at ${pause.at} (${pause.reason})`;
  if (!command.manual && acknowledgement)
    return `incident ${command.incidentId} was acknowledged by ${acknowledgement.by} at ${acknowledgement.at}${acknowledgement.reason ? ` (${acknowledgement.reason})` : ''}`;
  if (policy === null) return null;
  const freeze = force ? undefined : policy.freeze.find((w) => freezeInForce(w, now));
  if (freeze) return `${describeFreeze(freeze)} is in force`;
  // An approved recommendation is what mode recommend waits for; observe still commands nothing.
  const approved = policy.mode === Modes.recommend && Boolean(command.manual?.approves);
  if (policy.mode !== Modes.auto && !approved) return `${command.service} is in mode ${policy.mode}`;
  return null;
}
