import { Collections, DeadLetterAttributes, encodeCloudEvent, Topics, type RollbackProgress } from '@burnback/contracts';
import {
  alertCloudEvent,
  belowThresholdIncident,
  closedIncident,
  cpuUtilisationIncident,
  openIncident,
  testNotification,
  waitFor,
} from '@burnback/testkit';
import { MARKER_ATTRIBUTE, startPipeline, WEBHOOK_TOKEN, type Pipeline } from './pipeline-harness';

const stages = (progress: RollbackProgress[]) => progress.map((p) => p.stage);
/** RollbackTarget calls that created a rollout (not the validate_only preflight, not one Cloud Deploy refused). */
const rollbacksCreated = (p: Pipeline) =>
  p.sim.deploy.callsTo('RollbackTarget').filter((c) => !c.request.validateOnly && c.status === 'OK');

describe('Burnback end to end on the emulators and gcp-sim', () => {
  let p: Pipeline;
  beforeEach(async () => {
    p = await startPipeline(expect.getState().currentTestName ?? 'e2e');
  });
  afterEach(async () => {
    await p.close();
  });

  const waitForTerminal = async () => {
    const done = await p.progress.waitFor(1, (m) => ['succeeded', 'failed'].includes(m.json<RollbackProgress>().stage), 30_000);
    return done[0]!.json<RollbackProgress>();
  };

  it('an open incident ends in exactly one rollback of production to rel-001 that succeeded, with progress in order', async () => {
    await p.notify(openIncident({ ...p.fixture }));
    const terminal = await waitForTerminal();
    await p.drain();

    expect(terminal.stage).toBe('succeeded');
    expect(stages(p.progressOf(terminal.rollbackId))).toEqual(['accepted', 'started', 'succeeded']);
    expect(p.progressOf(terminal.rollbackId).map((e) => e.sequence)).toEqual([1, 2, 3]);

    const calls = p.sim.deploy.callsTo('RollbackTarget');
    // One call, naming the rollout being rolled back: that rollout had finished, so nothing was to be cancelled and
    // no validate_only preflight went before it.
    expect(calls.map((c) => c.request.validateOnly)).toEqual([false]);
    expect(calls[0]!.request).toMatchObject({
      rolloutToRollBack: expect.stringMatching(/\/releases\/rel-002\/rollouts\/rel-002-to-production-0001$/),
      name: `projects/${p.env.projectId}/locations/us-central1/deliveryPipelines/api-backend-pipeline`,
      targetId: 'production',
      releaseId: 'rel-001',
    });
    const rollouts = p.sim.deploy.rolloutsOnTarget('production');
    const rollback = rollouts.find((r) => r.name === terminal.rolloutName)!;
    expect(rollback.state).toBe('SUCCEEDED');
    expect(rollback.name).toContain('/releases/rel-001/rollouts/burnback-rb-');

    const [decision] = await p.decisions();
    expect(decision).toMatchObject({
      action: 'rollback',
      incidentId: '0.nx8k2f1q7d3a',
      service: 'api-backend',
      rollbackId: terminal.rollbackId,
    });
    expect(decision!.reason).toMatch(/roll back: error ratio 2\.5 % exceeds the threshold of 1 %/);
    expect(decision!.verdicts.every((v) => v.passed)).toBe(true);

    const [record] = await p.rollbacks();
    expect(record).toMatchObject({
      status: 'succeeded',
      releaseId: 'rel-001',
      rolloutState: 'SUCCEEDED',
      rolloutName: terminal.rolloutName,
    });
    expect(record!.audit.map((a) => a.stage)).toEqual(['accepted', 'accepted', 'started', 'succeeded']);

    const notification = await p.env.db.collection(Collections.notifications).get();
    expect(notification.size).toBe(1);
    expect(JSON.parse(notification.docs[0]!.data().raw as string).incident.incident_id).toBe('0.nx8k2f1q7d3a');
  });

  it('the same incident published again starts nothing new', async () => {
    await p.notify(openIncident({ ...p.fixture }));
    await waitForTerminal();
    await p.notify(openIncident({ ...p.fixture }));
    await p.notify(openIncident({ ...p.fixture }));
    await p.drain();

    expect(rollbacksCreated(p)).toHaveLength(1);
    expect(await p.decisions()).toHaveLength(1);
    expect(await p.rollbacks()).toHaveLength(1);
    expect(stages(p.progressOf())).toEqual(['accepted', 'started', 'succeeded']);
  });

  it('a below-threshold incident and a closed incident start nothing, and say why', async () => {
    await p.notify(belowThresholdIncident({ ...p.fixture }));
    await p.notify(closedIncident({ ...p.fixture, incidentId: '0.closed1' }));
    const decisions = await waitFor(
      async () => {
        const d = await p.decisions();
        return d.length === 2 ? d : undefined;
      },
      { what: 'two decisions' },
    );
    await p.drain();

    expect(decisions.every((d) => d.action === 'hold' && d.rollbackId === null)).toBe(true);
    const reasons = decisions.map((d) => d.reason).sort();
    expect(reasons).toEqual([
      expect.stringMatching(/^no rollback: error ratio 0\.4 % does not exceed the threshold of 1 %/),
      expect.stringMatching(/^no rollback: incident 0\.closed1 is closed/),
    ]);
    expect(rollbacksCreated(p)).toHaveLength(0);
    expect(p.progressOf()).toHaveLength(0);
    expect(await p.env.db.collection(Collections.outbox).where('topic', '==', Topics.commands).get()).toHaveProperty('size', 0);
  });

  it('a CPU alert on the service is recorded as ignore with its reason, and a burn that began before the serving release escalates', async () => {
    await p.notify(cpuUtilisationIncident({ ...p.fixture, incidentId: '0.cpu' }));
    // The burn started ten minutes before rel-002's first deploy job: it blames something else.
    await p.notify(openIncident({ ...p.fixture, incidentId: '0.before', startedAt: p.fixture.startedAt - 600 }));
    const decisions = await waitFor(
      async () => {
        const d = await p.decisions();
        return d.length === 2 ? d : undefined;
      },
      { what: 'two decisions' },
    );
    await p.drain();

    const cpu = decisions.find((d) => d.incidentId === '0.cpu')!;
    expect(cpu).toMatchObject({ action: 'ignore', rollbackId: null, confidence: null });
    expect(cpu.reason).toMatch(/^ignore: the alert measures something Burnback does not act on: /);
    const before = decisions.find((d) => d.incidentId === '0.before')!;
    expect(before).toMatchObject({ action: 'escalate', rollbackId: null, cause: null });
    expect(before.reason).toMatch(
      /^escalate: confidence 0\.\d+ is below 0\.8 that the serving release caused the burn \(burn 1, timing 0,/,
    );
    expect(before.confidence!.factors.find((f) => f.name === 'timing')!.detail).toMatch(
      /before rel-002 began serving at .*: it blames something else$/,
    );
    expect(rollbacksCreated(p)).toHaveLength(0);
    expect(p.deadLettered()).toHaveLength(0);
  });

  it('a malformed message lands in burnback-dead-letter with its reason and the next valid one still works', async () => {
    await p.notify('{"incident": {"incident_id": ');
    await p.notify({ version: '1.2', incident: { incident_id: '0.bad', state: 'exploded', started_at: 1 } });
    await p.notify(openIncident({ ...p.fixture }));

    const dead = await p.deadLetters.waitFor(2);
    const reasons = dead.map((m) => m.attributes[DeadLetterAttributes.reason]);
    expect(reasons).toEqual(
      expect.arrayContaining([expect.stringMatching(/notification is not JSON/), expect.stringMatching(/incident\.state/)]),
    );
    expect(dead.every((m) => m.attributes[DeadLetterAttributes.source] === 'burnback-ingest')).toBe(true);
    expect(dead.map((m) => m.data.toString())).toContain('{"incident": {"incident_id": ');

    expect((await waitForTerminal()).stage).toBe('succeeded');
    await p.drain();
    expect(rollbacksCreated(p)).toHaveLength(1);
  });

  it('an incident on a service Burnback does not know is answered and counted, never guessed, never dead-lettered', async () => {
    await p.notify(openIncident({ ...p.fixture, service: 'billing' }));
    // An alert from a project Burnback does not manage, on a service name it does: counted under that project.
    await p.notify(openIncident({ ...p.fixture, incidentId: '0.elsewhere', projectId: 'someone-elses-project' }));
    await waitFor(
      async () => {
        const counts = await p.unmapped();
        return counts[p.env.projectId] === 1 && counts['someone-elses-project'] === 1 ? true : undefined;
      },
      { what: 'ingest to count both notifications as mapped to no service' },
    );
    await p.drain();
    // Read and understood, just not Burnback's: no decision, no rollback, and the dead-letter topic (for input Burnback
    // cannot read) holds nothing of it.
    expect(p.deadLettered()).toEqual([]);
    expect(await p.decisions()).toEqual([]);
    expect(rollbacksCreated(p)).toHaveLength(0);
  });

  it('a notification whose incident id cannot be stored (x/y) is dead-lettered with the reason, and the burn right behind it rolls back', async () => {
    await p.notify(openIncident({ ...p.fixture, incidentId: 'x/y' }));
    await p.notify(openIncident({ ...p.fixture, incidentId: '0.behind' }));
    expect((await waitForTerminal()).stage).toBe('succeeded');
    const [dead] = await p.deadLetters.waitFor(1);
    expect(dead!.attributes[DeadLetterAttributes.reason]).toMatch(/incident id "x\/y" holds a "\/", which Firestore reads as a path/);
    expect(dead!.attributes[DeadLetterAttributes.source]).toBe('burnback-ingest');
    await p.drain();
    expect((await p.decisions()).map((d) => [d.incidentId, d.action])).toEqual([['0.behind', 'rollback']]);
  });

  it('an alert event with an id that cannot be stored, published past ingest, is dead-lettered by the decider and never holds its key', async () => {
    // As an older ingest, or a hand-made replay, might publish it: straight to burnback-alerts on the service's key.
    const poison = alertCloudEvent('0.placeholder', { service: 'api-backend' });
    const { data, attributes } = encodeCloudEvent(poison);
    const bytes = Buffer.from(data.toString('utf8').replaceAll('0.placeholder', 'a/b/c'));
    await p.publisher.publishRaw(Topics.alerts, bytes, attributes, 'api-backend');
    await p.notify(openIncident({ ...p.fixture, incidentId: '0.after-poison' }));
    expect((await waitForTerminal()).stage).toBe('succeeded');
    const dead = await p.deadLetters.waitFor(1, (m) => m.attributes[DeadLetterAttributes.source] === 'burnback-decider');
    expect(dead[0]!.attributes[DeadLetterAttributes.reason]).toMatch(/incidentId.*holds a "\/"/);
    await p.drain();
    expect((await p.decisions()).map((d) => [d.incidentId, d.action])).toEqual([['0.after-poison', 'rollback']]);
  });

  it('a burn whose metric, summary and resource_display_name Monitoring left null is decided from its condition, and rolls back', async () => {
    const n = openIncident({ ...p.fixture, incidentId: '0.nulls' }) as unknown as { incident: Record<string, unknown> };
    n.incident.metric = null;
    n.incident.summary = null;
    n.incident.resource_display_name = null;
    delete n.incident.documentation;
    await p.notify(n);
    expect((await waitForTerminal()).stage).toBe('succeeded');
    await p.drain();
    expect(p.deadLettered()).toEqual([]);
    expect((await p.decisions()).map((d) => [d.incidentId, d.action])).toEqual([['0.nulls', 'rollback']]);
  });

  it('a ratio alert whose numerator selects 4xx (a client-error share, 7 %) is ignored with the reason, never rolled back', async () => {
    const n = openIncident({ ...p.fixture, incidentId: '0.4xx', observedValue: '0.07' }) as unknown as {
      incident: { metric: { labels: Record<string, string> }; condition: { conditionThreshold: { filter: string } } };
    };
    n.incident.metric.labels.response_code_class = '4xx';
    n.incident.condition.conditionThreshold.filter = n.incident.condition.conditionThreshold.filter.replace('"5xx"', '"4xx"');
    await p.notify(n);
    const [decision] = await waitFor(
      async () => {
        const d = await p.decisions();
        return d.length === 1 ? d : undefined;
      },
      { what: 'the decision on the 4xx share' },
    );
    await p.drain();
    expect(decision).toMatchObject({ incidentId: '0.4xx', action: 'ignore', rollbackId: null });
    expect(decision!.reason).toMatch(/^ignore: .*response_code_class.*5xx/);
    expect(rollbacksCreated(p)).toHaveLength(0);
  });

  it('a second incident inside the cooldown is refused with the reason, never rolling back twice', async () => {
    await p.notify(openIncident({ ...p.fixture, incidentId: '0.first' }));
    await waitForTerminal();
    // The decider has consumed the outcome from burnback-progress.
    await waitFor(
      async () => (await p.env.db.collection(Collections.incidents).doc('0.first').get()).data()?.rollback?.stage === 'succeeded',
      { what: 'the decider to record the first rollback succeeded' },
    );
    await p.notify(openIncident({ ...p.fixture, incidentId: '0.second', startedAt: p.fixture.startedAt + 600 }));
    const refused = await waitFor(async () => (await p.decisions()).find((d) => d.incidentId === '0.second'), {
      what: 'the second decision',
    });
    await p.drain();

    // Production now serves the release Burnback returned to: a burn on it escalates (no ping-pong), and the cooldown refuses too.
    expect(refused.action).toBe('escalate');
    expect(refused.reason).toMatch(/^escalate: production serves rel-\d+, the release Burnback returned to .*ping-pong/);
    expect(refused.verdicts.find((v) => v.rule === 'cooldown')).toMatchObject({
      passed: false,
      detail: expect.stringMatching(/within the 30 min cooldown/),
    });
    expect(rollbacksCreated(p)).toHaveLength(1);
  });

  it('the webhook accepts a notification with the right token and the rollback follows', async () => {
    const url = `${p.ingest.address}/webhook/error-budget-alert?auth_token=${WEBHOOK_TOKEN}`;
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(openIncident({ ...p.fixture })),
    });
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ status: 'accepted', service: 'api-backend', incidentId: '0.nx8k2f1q7d3a' });
    expect((await waitForTerminal()).stage).toBe('succeeded');
  });

  it.each([
    ['no token', '', 401, /^missing token: give auth_token as a query parameter/],
    ['a wrong token', '?auth_token=wrong-token-wrong-token', 403, /^invalid token$/],
  ])('the webhook refuses %s', async (_name, query, status, reason) => {
    const res = await fetch(`${p.ingest.address}/webhook/error-budget-alert${query}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(openIncident()),
    });
    expect(res.status).toBe(status);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(reason);
  });

  it('the webhook answers 400 with the reason for a bad notification', async () => {
    const res = await fetch(`${p.ingest.address}/webhook/error-budget-alert?auth_token=${WEBHOOK_TOKEN}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"version":"1.2","incident":{}}',
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(
      /invalid Monitoring notification: incident\.incident_id/,
    );
  });

  it('the console test notification is acknowledged and decides nothing', async () => {
    const res = await fetch(`${p.ingest.address}/webhook/error-budget-alert?auth_token=${WEBHOOK_TOKEN}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(testNotification()),
    });
    expect(res.status).toBe(200);
    await p.drain();
    expect(await p.decisions()).toHaveLength(0);
    expect(p.deadLettered()).toHaveLength(0);
  });

  it('Pub/Sub push deliveries to /pubsub/push roll back too, and a bad pushed message is dead-lettered and acked', async () => {
    // A push subscription of our own on monitoring-incidents, beside the pull one ingest reads (which is detached for this test).
    // Ordered, so a message is pushed only once the one before it on its key was acked.
    await p.env.pubsub.subscription('burnback-ingest').delete();
    await p.env.pubsub.topic('monitoring-incidents').createSubscription('burnback-ingest-push', {
      enableMessageOrdering: true,
      // No token: the emulator sends none (the harness allows unsigned pushes, as npm start does).
      pushConfig: { pushEndpoint: `${p.ingest.address}/pubsub/push` },
    });
    await p.notify('not json at all', 'push');
    await p.notify(openIncident({ ...p.fixture }), 'push');
    const [dead] = await p.deadLetters.waitFor(1);
    expect(dead!.attributes[DeadLetterAttributes.reason]).toMatch(/notification is not JSON/);
    expect(dead!.attributes[DeadLetterAttributes.source]).toMatch(/burnback-ingest-push/);
    expect((await waitForTerminal()).stage).toBe('succeeded');

    // Positive control: a marker pushed behind them on the same key is dead-lettered too; only then count.
    await p.publisher.publishRaw(Topics.monitoringIncidents, Buffer.from('marker'), { [MARKER_ATTRIBUTE]: 'push' }, 'push');
    await p.deadLetters.waitFor(1, (m) => m.attributes[MARKER_ATTRIBUTE] === 'push');
    expect(p.deadLettered()).toHaveLength(1); // acked (204), not retried into the dead-letter topic again
    const [notification] = (await p.env.db.collection(Collections.notifications).get()).docs.map((d) => d.data());
    expect(notification).toMatchObject({ source: 'pubsub', incidentId: '0.nx8k2f1q7d3a' });
  });

  it('a transient Cloud Deploy outage is retried and still yields exactly one rollout', async () => {
    p.sim.deploy.failNextCalls('RollbackTarget', 14 /* UNAVAILABLE */, 2);
    await p.notify(openIncident({ ...p.fixture }));
    expect((await waitForTerminal()).stage).toBe('succeeded');
    await p.drain();
    // The call meets the outage and is retried; it goes through once.
    expect(p.sim.deploy.callsTo('RollbackTarget').map((c) => c.status)).toEqual(['UNAVAILABLE', 'UNAVAILABLE', 'OK']);
    expect(p.sim.deploy.rolloutsOnTarget('production').filter((r) => r.rollbackOfRollout)).toHaveLength(1);
  });

  it('a RollbackTarget that took effect but answered an error is resumed through ALREADY_EXISTS, not repeated', async () => {
    p.sim.deploy.failNextCalls('RollbackTarget', 14 /* UNAVAILABLE */, 1, { afterApplying: true, when: (r) => r.validateOnly !== true });
    await p.notify(openIncident({ ...p.fixture }));
    const terminal = await waitForTerminal();
    await p.drain();
    expect(terminal.stage).toBe('succeeded');
    expect(p.sim.deploy.callsTo('RollbackTarget').map((c) => c.status)).toEqual(['UNAVAILABLE', 'ALREADY_EXISTS']);
    expect(p.sim.deploy.rolloutsOnTarget('production').filter((r) => r.rollbackOfRollout)).toHaveLength(1);
    const [record] = await p.rollbacks();
    expect(record!.audit.find((a) => a.stage === 'started')!.detail).toMatch(/already exists/);
  });

  it('a rollout that fails in Cloud Deploy is reported failed with its reason', async () => {
    p.sim.deploy.failNextRollbacks('production', 'verification job failed: 5xx rate still high');
    await p.notify(openIncident({ ...p.fixture }));
    const terminal = await waitForTerminal();
    expect(terminal.stage).toBe('failed');
    expect(terminal.detail).toMatch(/ended FAILED: verification job failed/);
    expect(stages(p.progressOf())).toEqual(['accepted', 'started', 'failed']);
    const [record] = await p.rollbacks();
    expect(record).toMatchObject({ status: 'failed', rolloutState: 'FAILED' });
  });
});
