import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '@burnback/cli';
import { rollbackIdFor, rolloutIdFor } from '@burnback/contracts';
import { openIncident, waitFor } from '@burnback/testkit';
import type { ServiceStatus } from '../src/commands/status';
import { MANAGEMENT_TOKEN, startPipeline, WEBHOOK_TOKEN, type Pipeline } from './pipeline-harness';

const run = promisify(execFile);
const BIN = ['--conditions=@burnback/source', '--import', 'tsx', join(REPO_ROOT, 'packages/cli/src/bin.ts')];

/** `burnback status` and `burnback decisions` read the store a running pipeline writes, as an operator runs them. */
describe('burnback status and decisions', () => {
  let p: Pipeline;
  let configPath: string | undefined;
  beforeAll(async () => {
    p = await startPipeline('status-cli');
  }, 60_000);
  afterAll(async () => {
    await p.close();
  });

  const cli = async (...args: string[]) => {
    const env = {
      ...process.env,
      GOOGLE_CLOUD_PROJECT: p.env.projectId,
      BURNBACK_CONFIG: configPath ?? p.config.configPath,
      FIRESTORE_EMULATOR_HOST: process.env.FIRESTORE_EMULATOR_HOST!,
    };
    return (await run(process.execPath, [...BIN, ...args], { cwd: REPO_ROOT, env })).stdout;
  };
  const status = async () => (JSON.parse(await cli('status', '--json')) as { services: ServiceStatus[] }).services[0]!;

  it('shows the rollback in flight, then the cooldown, the hour count and the last decision with its reason', async () => {
    const before = await status();
    expect(before).toMatchObject({
      service: 'api-backend',
      mode: 'auto',
      cooldown: null,
      rollbacksLastHour: 0,
      inFlight: null,
      lastDecision: null,
      serving: { releaseId: 'rel-002' },
    });

    // Burnback's rollback rollout waits in gcp-sim until the in-flight view is read, however slow this machine is.
    const rollout = `/rollouts/${rolloutIdFor(rollbackIdFor('0.status'))}`;
    p.sim.deploy.holdRollouts((name) => name.endsWith(rollout));
    await p.notify(openIncident({ ...p.fixture, incidentId: '0.status' }));
    await waitFor(async () => (await p.rollbacks()).some((r) => r.status === 'started'), { what: 'the rollback to start' });
    const during = await status();
    expect(during.inFlight).toMatchObject({ status: 'started', releaseId: 'rel-001' });
    expect(during.lastDecision).toMatchObject({ action: 'rollback', confidence: 0.925 });
    expect(during.lastDecision!.reason).toMatch(/^roll back: error ratio 2\.5 % exceeds the threshold of 1 %; caused by rel-002/);
    const held = p.sim.deploy.listRollouts().filter((r) => r.name.endsWith(rollout));
    expect(held).toHaveLength(1);
    p.sim.deploy.releaseRollout(held[0]!.name);

    await waitFor(async () => (await p.rollbacks()).some((r) => r.status === 'succeeded'), {
      what: 'the rollback to succeed',
      timeoutMs: 30_000,
    });
    // The decider records the outcome from burnback-progress; the cooldown then counts from the finish.
    const after = await waitFor(
      async () => {
        const s = await status();
        return s.serving?.releaseId === 'rel-001' ? s : undefined;
      },
      { what: 'the decider to record the outcome', timeoutMs: 30_000 },
    );
    expect(after).toMatchObject({ inFlight: null, rollbacksLastHour: 1, maxRollbacksPerHour: 3 });
    expect(after.cooldown!.remainingMinutes).toBeGreaterThanOrEqual(29);
    expect(after.cooldown!.remainingMinutes).toBeLessThanOrEqual(30);

    const text = await cli('status');
    expect(text).toMatch(/^api-backend {2}\(auto; rolls back api-backend-pipeline\/production\)$/m);
    expect(text).toMatch(/^ {2}cooldown {5}(29|30) min remaining/m);
    expect(text).toMatch(/^ {2}last hour {4}1 of 3 rollbacks$/m);
  }, 90_000);

  it('lists decisions newest first with their verdicts, by service and time', async () => {
    const listed = JSON.parse(await cli('decisions', '--json', '--service', 'api-backend', '--since', '2h')) as {
      decisions: Array<{ incidentId: string; action: string; verdicts: Array<{ rule: string; passed: boolean }> }>;
    };
    expect(listed.decisions.map((d) => [d.incidentId, d.action])).toEqual([['0.status', 'rollback']]);
    expect(listed.decisions[0]!.verdicts.every((v) => v.passed)).toBe(true);
    const text = await cli('decisions');
    expect(text).toContain('api-backend  ROLLBACK  incident 0.status');
    expect(text).toContain('✓ enabled, ✓ incident open, ✓ error ratio over its bar');
    expect(text).toContain('confidence 0.925 (cause rel-002)');
    // The rollback it ordered, and how to see its timeline.
    const rollbackId = (await p.rollbacks()).find((r) => r.command.incidentId === '0.status')!.rollbackId;
    expect(text).toContain(`\n  rollback ${rollbackId}: npm run burnback -- rollback ${rollbackId}\n`);
    expect(JSON.parse(await cli('decisions', '--json', '--service', 'billing'))).toEqual({ decisions: [], pending: [] });
    await expect(cli('decisions', '--since', 'yesterday')).rejects.toMatchObject({ code: 2 });
  }, 60_000);

  it('rollback <id> prints the rollback from its decision through its stages to its outcome', async () => {
    const rollback = (await p.rollbacks()).find((r) => r.command.incidentId === '0.status')!;
    const text = await cli('rollback', rollback.rollbackId);
    expect(text).toMatch(new RegExp(`^rollback ${rollback.rollbackId} of api-backend: succeeded \\(incident 0\\.status\\)$`, 'm'));
    expect(text).toMatch(/^ {2}releases +rel-002 → rel-001$/m);
    expect(text).toMatch(
      /^ {2}rollout +api-backend-pipeline\/\S+ SUCCEEDED \(rolls back api-backend-pipeline\/rel-002-to-production-\S+\)$/m,
    );
    expect(text).toMatch(new RegExp(`^  decision +${rollback.command.decisionId} rollback: roll back: error ratio 2\\.5 %`, 'm'));
    // The timeline: the decision first, then the executor's stages in order, each with its offset from the decision.
    const timeline = text.slice(text.indexOf('\ntimeline\n') + 10, text.indexOf('\n\nCloud Deploy phases'));
    const stages = timeline
      .split('\n')
      .map((line) => /^ {2}\+\S+(?: \S+)? +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC {2}(.+?)(?: {2,}|$)/.exec(line)?.[1]);
    expect(stages[0]).toBe('decided: rollback');
    const order = ['accepted', 'started', 'succeeded'].map((s) => stages.indexOf(s));
    expect(order.every((at, i) => at > (i === 0 ? 0 : order[i - 1]!))).toBe(true);
    const page = JSON.parse(await cli('rollback', rollback.rollbackId, '--json')) as { steps: Array<{ stage: string }> };
    expect(page.steps.map((s) => s.stage)).toEqual(stages);

    const missing = cli('rollback', 'rb-nothing');
    await expect(missing).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('no rollback "rb-nothing" is on record') });
    await expect(cli('rollback', 'a/b')).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('holds a "/"') });
    await expect(cli('rollback')).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('give one rollback id') });
  }, 60_000);

  it('GET /rollback/status/{id} gives the rollback by its id, its decision or its incident: releases, rollout, timeline, reasons', async () => {
    const api = (path: string, token = MANAGEMENT_TOKEN) =>
      fetch(`${p.ingest.address}${path}`, { headers: { authorization: `Bearer ${token}` } });
    const rollback = (await p.rollbacks()).find((r) => r.command.incidentId === '0.status')!;
    const byRollback = (await (await api(`/rollback/status/${rollback.rollbackId}`)).json()) as Record<string, unknown>;
    expect(byRollback).toMatchObject({
      rollbackId: rollback.rollbackId,
      incidentId: '0.status',
      service: 'api-backend',
      status: 'succeeded',
      releases: { from: 'rel-002', to: 'rel-001' },
      rollout: { state: 'SUCCEEDED' },
      decision: { action: 'rollback', confidence: { value: 0.925 }, cause: { releaseId: 'rel-002' } },
    });
    const stages = (byRollback.timeline as Array<{ stage: string }>).map((t) => t.stage);
    expect(stages[0]).toBe('decided: rollback');
    expect(stages).toEqual(expect.arrayContaining(['accepted', 'started', 'succeeded']));
    expect(await (await api(`/rollback/status/${rollback.command.decisionId}`)).json()).toEqual(byRollback);
    expect(await (await api('/rollback/status/0.status')).json()).toEqual(byRollback);

    const recent = (await (await api('/rollback/recent?hours=2&service=api-backend&limit=1')).json()) as {
      decisions: Array<{ incidentId: string }>;
      nextPageToken: string | null;
    };
    expect(recent.decisions.map((d) => d.incidentId)).toEqual(['0.status']);
    expect(recent.nextPageToken).toBeNull();

    const missing = await api('/rollback/status/0.nothing');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'no rollback, decision or incident 0.nothing' } });
    // The webhook's token is not the management token, and no token is no access.
    expect((await api(`/rollback/status/${rollback.rollbackId}`, WEBHOOK_TOKEN)).status).toBe(403);
    expect((await fetch(`${p.ingest.address}/rollback/recent`)).status).toBe(401);
    expect((await api('/rollback/recent?hours=-1')).status).toBe(400);
  });

  it('decisions --follow prints the recent decisions oldest first, then each new one as it is made, until Ctrl-C', async () => {
    const child = spawn(process.execPath, [...BIN, 'decisions', '--follow', '--service', 'api-backend'], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        GOOGLE_CLOUD_PROJECT: p.env.projectId,
        BURNBACK_CONFIG: p.config.configPath,
        FIRESTORE_EMULATOR_HOST: process.env.FIRESTORE_EMULATOR_HOST!,
        PUBSUB_EMULATOR_HOST: process.env.PUBSUB_EMULATOR_HOST!,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    try {
      await waitFor(() => err.includes('following new decisions of api-backend'), { what: 'the follow to start', timeoutMs: 30_000 });
      // The recent decision is printed before the follow starts.
      expect(out).toMatch(/api-backend {2}ROLLBACK {2}incident 0\.status\n/);
      await p.notify(openIncident({ ...p.fixture, incidentId: '0.follow' }));
      await waitFor(() => /api-backend {2}[A-Z]+ {2}incident 0\.follow\n/.test(out), {
        what: 'the new decision to be printed',
        timeoutMs: 30_000,
      });
      const listed = JSON.parse(await cli('decisions', '--json', '--service', 'api-backend')) as {
        decisions: Array<{ incidentId: string; action: string; reason: string }>;
      };
      const made = listed.decisions.find((d) => d.incidentId === '0.follow')!;
      expect(out).toContain(`api-backend  ${made.action.toUpperCase()}  incident 0.follow\n  ${made.reason}\n`);
      expect(out.indexOf('incident 0.status')).toBeLessThan(out.indexOf('incident 0.follow'));
      expect(out.match(/incident 0\.status\n/g)).toHaveLength(1);
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
    // Its own subscription is gone with it.
    const [subscriptions] = await p.env.pubsub.getSubscriptions();
    expect(subscriptions.map((s) => s.name.split('/').pop()).filter((n) => n?.startsWith('burnback-follow-'))).toEqual([]);
  }, 90_000);

  it('shows a pause in force (until, by whom, why) and a freeze window in force', async () => {
    const pause = await fetch(`${p.ingest.address}/services/api-backend/pause?minutes=45&reason=load%20test&by=dana`, {
      method: 'POST',
      headers: { authorization: `Bearer ${MANAGEMENT_TOKEN}` },
    });
    const until = ((await pause.json()) as { pause: { until: string } }).pause.until;
    expect(await status()).toMatchObject({ pause: { until, by: 'dana', reason: 'load test' }, freeze: null });
    // The same store read with a config whose freeze window is in force now.
    const dir = mkdtempSync(join(tmpdir(), 'burnback-freeze-'));
    try {
      configPath = join(dir, 'burnback.yaml');
      const from = new Date(Date.now() - 3_600_000).toISOString();
      const to = new Date(Date.now() + 3_600_000).toISOString();
      writeFileSync(
        configPath,
        readFileSync(p.config.configPath, 'utf8').replace(
          /^policy:\n/m,
          `policy:\n  freeze: [{ from: "${from}", to: "${to}", reason: release freeze }]\n`,
        ),
      );
      expect((await status()).freeze).toBe(`freeze from ${from} to ${to} (release freeze)`);
      const text = await cli('status');
      expect(text).toMatch(new RegExp(`^  PAUSED {7}until ${until.replace(/\./g, '\\.')} by dana: load test$`, 'm'));
      expect(text).toMatch(/^ {2}FROZEN {7}freeze from .* \(release freeze\)$/m);
    } finally {
      configPath = undefined;
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
