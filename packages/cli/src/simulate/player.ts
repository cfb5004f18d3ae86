import type { CloudDeployClient } from '@google-cloud/deploy';
import type { Firestore } from '@google-cloud/firestore';
import { Collections, DecisionRecord, IncidentRecord, RollbackRecord, TargetRecord, targetDocIdFor } from '@burnback/contracts';
import { closedIncident, ControlError, openIncident, type GcpSimControl } from '@burnback/gcp-sim';
import type { ServiceConfig } from '@burnback/platform';
import { DeliveryError, Vias, type NotificationChannel } from './channels.js';
import { durationMsOf, type Scenario, type Step } from './scenario.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A burn's start, in the whole seconds Monitoring gives (`started_at`): the
 * next second boundary, once it has passed. So the burn starts after everything
 * before the step (a release shipped in the same second), and before everything
 * after it (the rollback it causes): never in the future of its own
 * notification, as a rounded-up start would be. A replay judges the same start
 * against the same order of events, whatever its pace.
 */
async function startingNow(): Promise<number> {
  const second = Math.ceil(Date.now() / 1000);
  await sleep(second * 1000 + 1 - Date.now());
  return second;
}

/** An expectation not met, or a step that could not be done (a notification refused, gcp-sim's control unreachable). */
class Expectation extends Error {}

/**
 * A scenario played against the stack: notifications through its channel (Pub/Sub or the webhook), releases through
 * gcp-sim's Cloud Deploy, failures through gcp-sim's control endpoint, answers read from Firestore.
 */
export class Simulation {
  private readonly started = Date.now();
  private readonly incidents = new Map<string, { id: string; startedAt: number }>();
  private readonly consumed = new Set<string>();
  private readonly since = new Date().toISOString();
  /** The gcp-sim faults this run set, cleared when it ends (a failed run must not fail the next one's rollbacks). */
  private readonly faults: string[] = [];

  constructor(
    private readonly scenario: Scenario,
    private readonly service: ServiceConfig,
    private readonly deps: {
      db: Firestore;
      deploy: CloudDeployClient;
      /** Where notifications go: ingest's Pub/Sub topic or its webhook. */
      channel: NotificationChannel;
      /** gcp-sim's control endpoint, for `fail` steps. */
      control: GcpSimControl;
      run: string;
      out: (line: string) => void;
    },
  ) {}

  private say(text: string): void {
    this.deps.out(`+${((Date.now() - this.started) / 1000).toFixed(1).padStart(5)}s  ${text}`);
  }

  private incidentId(name: string): string {
    return `0.sim-${this.deps.run}-${name}`;
  }

  /** The id Burnback gives the incident of that name: its own, or (through Alertmanager) its alert's fingerprint and start. */
  private burnbackIncidentId(name: string): string {
    const known = this.incidents.get(name);
    const id = known?.id ?? this.incidentId(name);
    return known && this.deps.channel.incidentIdOf ? this.deps.channel.incidentIdOf(id, known.startedAt) : id;
  }

  private async publish(notification: unknown, times = 1): Promise<void> {
    try {
      for (let i = 0; i < times; i++) await this.deps.channel.send(notification);
    } catch (err) {
      if (err instanceof DeliveryError) throw new Expectation(err.message, { cause: err });
      throw err;
    }
  }

  private get pipelineName(): string {
    const s = this.service;
    return `projects/${s.project}/locations/${s.region}/deliveryPipelines/${s.pipeline}`;
  }

  /** Ships a release as a team does: each stage in order, every canary phase advanced, until it succeeds on the service's target. */
  private async ship(releaseId: string): Promise<void> {
    const { deploy } = this.deps;
    const [pipeline] = await deploy.getDeliveryPipeline({ name: this.pipelineName });
    const stages = (pipeline.serialPipeline?.stages ?? []).map((s) => s.targetId!).filter(Boolean);
    const [op] = await deploy.createRelease({ parent: this.pipelineName, releaseId, release: { description: `simulated ${releaseId}` } });
    await op.promise();
    const release = `${this.pipelineName}/releases/${releaseId}`;
    for (const targetId of stages) {
      const [rolloutOp] = await deploy.createRollout({ parent: release, rolloutId: `${releaseId}-to-${targetId}`, rollout: { targetId } });
      await rolloutOp.promise();
      const name = `${release}/rollouts/${releaseId}-to-${targetId}`;
      for (const deadline = Date.now() + 120_000; ;) {
        const [r] = await deploy.getRollout({ name });
        const state = String(r.state);
        if (state === 'SUCCEEDED') break;
        if (state === 'FAILED' || state === 'CANCELLED') throw new Expectation(`rollout ${name} ended ${state}`);
        const phases = r.phases ?? [];
        const next = phases.findIndex((p, i) => i > 0 && String(p.state) === 'PENDING' && String(phases[i - 1]!.state) === 'SUCCEEDED');
        if (next > 0) {
          await deploy.advanceRollout({ name, phaseId: phases[next]!.id! });
          this.say(`  ${releaseId} on ${targetId}: advanced to ${phases[next]!.id}`);
        }
        if (Date.now() > deadline) throw new Expectation(`rollout ${name} still ${state} after 120 s`);
        await sleep(200);
      }
      this.say(`ship ${releaseId}: ${targetId} SUCCEEDED`);
    }
    // The decider learns what serves from Cloud Deploy's Succeed notification: wait until it knows.
    const ref = this.deps.db.collection(Collections.targets).doc(targetDocIdFor(this.service));
    await this.until(
      async () => {
        const doc = await ref.get();
        return doc.exists && TargetRecord.parse(doc.data()).serving?.releaseId === releaseId ? true : undefined;
      },
      30_000,
      `the decider to record that ${releaseId} serves ${this.service.target}`,
    );
    this.say(`the decider knows ${releaseId} serves ${this.service.target}`);
  }

  private async until<T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string, seen?: () => Promise<string>): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline)
        throw new Expectation(`expected ${what} within ${timeoutMs / 1000} s${seen ? `; saw ${await seen()}` : ''}`);
      await sleep(250);
    }
  }

  private async decisionsOf(incidentId: string): Promise<DecisionRecord[]> {
    const docs = await this.deps.db.collection(Collections.decisions).where('incidentId', '==', incidentId).get();
    return docs.docs.map((d) => DecisionRecord.parse(d.data())).sort((a, b) => (a.decidedAt < b.decidedAt ? -1 : 1));
  }

  private async rollbacksOf(incidentId: string): Promise<RollbackRecord[]> {
    const docs = await this.deps.db.collection(Collections.rollbacks).where('command.incidentId', '==', incidentId).get();
    return docs.docs.map((d) => RollbackRecord.parse(d.data()));
  }

  private async step(step: Step): Promise<void> {
    if ('ship' in step) return this.ship(step.ship);
    if ('abandon' in step) {
      await this.deps.deploy.abandonRelease({ name: `${this.pipelineName}/releases/${step.abandon}` });
      return this.say(`abandon ${step.abandon}`);
    }
    if ('burn' in step) {
      const id = this.incidentId(step.burn.incident);
      // Monitoring notifies an incident again with new figures and the same start: a burn of a known incident keeps it.
      const known = step.burn.startedAfter === undefined ? this.incidents.get(step.burn.incident) : undefined;
      const offset = step.burn.startedAfter ? durationMsOf(step.burn.startedAfter) : 0;
      const startedAt = known?.startedAt ?? (offset > 0 ? Math.ceil((Date.now() + offset) / 1000) : await startingNow());
      this.incidents.set(step.burn.incident, { id, startedAt });
      await this.publish(this.notification(id, startedAt, step.burn.errorRatio));
      return this.say(
        `burn ${step.burn.incident}: error ratio ${+(step.burn.errorRatio * 100).toFixed(3)} % on ${this.scenario.service}${step.burn.startedAfter ? `, started ${step.burn.startedAfter} after now` : ''} (incident ${id})`,
      );
    }
    if ('storm' in step) {
      const n = step.storm.incidents;
      const startedAt = await startingNow();
      for (let i = 0; i < n; i++) {
        const name = `storm-${i}`;
        const id = this.incidentId(name);
        this.incidents.set(name, { id, startedAt });
        await this.publish(this.notification(id, startedAt, step.storm.errorRatio), step.storm.deliveries);
      }
      return this.say(`storm: ${n} burning incidents on ${this.scenario.service}, each delivered ${step.storm.deliveries} time(s)`);
    }
    if ('close' in step) {
      const known = this.incidents.get(step.close.incident);
      if (!known) throw new Expectation(`close ${step.close.incident}: no burn of that name earlier in the scenario`);
      await this.publish(
        closedIncident({
          incidentId: known.id,
          service: this.serviceLabel,
          projectId: this.service.project,
          startedAt: known.startedAt,
          endedAt: Math.floor(Date.now() / 1000),
        }),
      );
      return this.say(`close ${step.close.incident}`);
    }
    if ('fail' in step) {
      const { rollback, reason, count } = step.fail;
      let fault;
      try {
        fault = await this.deps.control.failRollbacks({
          pipeline: this.pipelineName,
          target: this.service.target,
          rollback,
          reason,
          count,
        });
      } catch (err) {
        if (err instanceof ControlError) throw new Expectation(`fail: ${err.message}`, { cause: err });
        throw err;
      }
      this.faults.push(fault.id);
      const how = rollback === 'rollout' ? 'its rollout ends FAILED in Cloud Deploy' : 'Cloud Deploy refuses RollbackTarget';
      return this.say(
        `fail: the next ${count === 1 ? 'rollback' : `${count} rollbacks`} of ${this.service.target} (${this.service.pipeline}): ${how}, "${reason}"`,
      );
    }
    const e = step.expect;
    const within = durationMsOf(e.within);
    if ('decision' in e) {
      const id = this.burnbackIncidentId(e.incident);
      const reason = e.reason === undefined ? null : new RegExp(e.reason);
      const d = await this.until(
        async () => (await this.decisionsOf(id)).find((x) => !this.consumed.has(x.decisionId)),
        within,
        `a decision on ${e.incident}`,
      );
      this.consumed.add(d.decisionId);
      this.say(`decision ${d.action.toUpperCase()} on ${e.incident}: ${d.reason}`);
      if (d.action !== e.decision || (reason && !reason.test(d.reason)))
        throw new Expectation(
          `expected ${e.decision}${reason ? ` matching /${e.reason}/` : ''} on ${e.incident}, got ${d.action}: ${d.reason}`,
        );
      return;
    }
    if ('rollback' in e) {
      const id = this.burnbackIncidentId(e.incident);
      const r = await this.until(
        async () => (await this.rollbacksOf(id)).find((x) => x.status === e.rollback || x.audit.some((a) => a.stage === e.rollback)),
        within,
        `the rollback of ${e.incident} to be ${e.rollback}`,
        async () =>
          (await this.rollbacksOf(id)).map((x) => `${x.status}${x.failureReason ? ` (${x.failureReason})` : ''}`).join(', ') ||
          'no rollback',
      );
      const line = [...r.audit].reverse().find((a) => a.stage === e.rollback);
      const detail = line?.detail ?? r.failureReason ?? '';
      this.say(`rollback of ${e.incident} ${e.rollback}: ${detail}`);
      if (e.release !== undefined && r.releaseId !== e.release)
        throw new Expectation(`expected the rollback of ${e.incident} to return to ${e.release}, it returns to ${r.releaseId}`);
      if (e.reason !== undefined && !new RegExp(e.reason).test(detail))
        throw new Expectation(`expected the rollback of ${e.incident} ${e.rollback} with a detail matching /${e.reason}/, got: ${detail}`);
      // The executor records the outcome; the decider learns it from progress and Cloud Deploy's notifications, which
      // may arrive later. The next step (a burn, a ship) is judged on what the decider knows, so wait until it knows.
      if (e.rollback === 'succeeded' && !r.command.validateOnly) {
        const ref = this.deps.db.collection(Collections.targets).doc(targetDocIdFor(this.service));
        await this.until(
          async () => {
            const doc = await ref.get();
            return doc.exists && TargetRecord.parse(doc.data()).returnedTo?.rollbackId === r.rollbackId ? true : undefined;
          },
          within,
          `the decider to record that the rollback of ${e.incident} returned ${this.service.target} to ${r.releaseId}`,
        );
        this.say(`the decider knows ${r.releaseId} serves ${this.service.target} again`);
      }
      // A failed or superseded rollback is final for its incident; the next notification of it is judged on that.
      if ((e.rollback === 'failed' || e.rollback === 'superseded') && !r.command.validateOnly) {
        const ref = this.deps.db.collection(Collections.incidents).doc(id);
        await this.until(
          async () => {
            const doc = await ref.get();
            return doc.exists && IncidentRecord.parse(doc.data()).rollback?.stage === e.rollback ? true : undefined;
          },
          within,
          `the decider to record that the rollback of ${e.incident} ${e.rollback}`,
        );
        this.say(`the decider knows the rollback of ${e.incident} ${e.rollback}`);
      }
      return;
    }
    const ids = [...this.incidents.keys()].map((name) => this.burnbackIncidentId(name));
    // Decisions on notifications: a re-decision (the decider deciding an incident again on its own, e.g. right after
    // its rollback failed) is counted apart, since whether one happens depends on which comes first, it or the
    // incident's next notification.
    const count = async () => {
      const all = (await Promise.all(ids.map((id) => this.decisionsOf(id)))).flat();
      const rollbacks = (await Promise.all(ids.map((id) => this.rollbacksOf(id)))).flat().filter((r) => !r.command.validateOnly);
      const redecisions = all.filter((d) => d.redecisionOf !== null).length;
      return { decisions: all.length - redecisions, redecisions, rollbacks: rollbacks.length };
    };
    const c = await this.until(
      async () => {
        const now = await count();
        return now.decisions >= e.decisions ? now : undefined;
      },
      within,
      `${e.decisions} decisions`,
      async () => `${(await count()).decisions} decisions`,
    );
    // What Cloud Deploy ran: a rollback retried in a loop would show here as more rollback rollouts than rollbacks ordered.
    const rollouts = await this.rollbackRolloutsSinceStart();
    this.say(
      `${c.decisions} decisions on notifications${c.redecisions ? ` (and ${c.redecisions} re-decision(s))` : ''}, ${c.rollbacks} rollback(s); Cloud Deploy ran ${rollouts} rollback rollout(s) on ${this.service.target}`,
    );
    if (c.rollbacks !== e.rollbacks || c.decisions !== e.decisions)
      throw new Expectation(`expected ${e.decisions} decisions and ${e.rollbacks} rollback(s), saw ${c.decisions} and ${c.rollbacks}`);
    if (rollouts > c.rollbacks)
      throw new Expectation(
        `Cloud Deploy ran ${rollouts} rollback rollout(s) on ${this.service.target} for ${c.rollbacks} rollback(s) ordered`,
      );
  }

  /** Rollback rollouts (rollback_of_rollout set) created on the service's target since the scenario began. */
  private async rollbackRolloutsSinceStart(): Promise<number> {
    const [rollouts] = await this.deps.deploy.listRollouts({ parent: `${this.pipelineName}/releases/-` });
    const createdMs = (r: (typeof rollouts)[number]) =>
      Number(r.createTime?.seconds ?? 0) * 1000 + Math.floor(Number(r.createTime?.nanos ?? 0) / 1_000_000);
    return rollouts.filter((r) => r.targetId === this.service.target && Boolean(r.rollbackOfRollout) && createdMs(r) >= this.started)
      .length;
  }

  private get serviceLabel(): string {
    return this.service.match.resourceLabels.service_name ?? this.scenario.service;
  }

  private notification(id: string, startedAt: number, errorRatio: number) {
    return openIncident({
      incidentId: id,
      service: this.serviceLabel,
      projectId: this.service.project,
      startedAt,
      observedValue: String(errorRatio),
    });
  }

  /** Plays every step; returns false (having said why) at the first expectation not met. */
  async play(): Promise<boolean> {
    const via =
      this.deps.channel.via === Vias.webhook
        ? ', through the webhook'
        : this.deps.channel.via === Vias.alertmanager
          ? ", through Alertmanager's webhook"
          : '';
    this.say(`scenario: ${this.scenario.description} (${this.service.name}${via}; run ${this.deps.run}, since ${this.since})`);
    if (this.scenario.continues) this.say(`it continues '${this.scenario.continues}': it expects the stack as that scenario left it`);
    try {
      for (const step of this.scenario.steps) {
        try {
          await this.step(step);
        } catch (err) {
          if (!(err instanceof Expectation)) throw err;
          this.say(`FAILED: ${err.message}`);
          return false;
        }
      }
      this.say('scenario done: every expectation met');
      return true;
    } finally {
      await this.clearFaults();
    }
  }

  /** Clears what this run's fail steps set and no rollback used up, so the stack is left as it was found. */
  private async clearFaults(): Promise<void> {
    const ours = this.faults.splice(0);
    if (ours.length === 0) return;
    try {
      const pending = new Set((await this.deps.control.faults()).map((f) => f.id));
      for (const id of ours.filter((f) => pending.has(f))) {
        await this.deps.control.clear(id);
        this.say(`cleared fault ${id}: no rollback came to use it`);
      }
    } catch (err) {
      this.say(
        `could not clear faults ${ours.join(', ')} (${(err as Error).message}); DELETE ${this.deps.control.url}/faults/<id> clears one`,
      );
    }
  }
}
