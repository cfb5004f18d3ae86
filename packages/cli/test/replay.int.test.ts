import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '@burnback/cli';
import { Collections, type TargetRecord } from '@burnback/contracts';
import { closedIncident, cpuUtilisationIncident, openIncident, waitFor } from '@burnback/testkit';
import { readExport } from '../src/replay/format';
import { startPipeline, type Pipeline } from './pipeline-harness';

const run = promisify(execFile);
const BIN = ['--conditions=@burnback/source', '--import', 'tsx', join(REPO_ROOT, 'packages/cli/src/bin.ts')];

/**
 * Export → replay on the emulators: what a running pipeline decided is exported
 * with its evidence, and the engine reproduces every decision from the file
 * alone, byte for byte in any time zone; a stricter policy removes exactly the
 * rollback it should.
 */
describe('burnback export and replay', () => {
  let p: Pipeline;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'burnback-replay-'));
    p = await startPipeline('replay', { rolloutStepMs: 40 });
    // A rollback, a refusal (the target now serves the release Burnback returned to), an ignored CPU alert, a close.
    await p.notify(openIncident({ ...p.fixture, incidentId: '0.burn' }));
    const rollback = await waitFor(async () => (await p.rollbacks()).find((r) => r.status === 'succeeded'), {
      what: 'the rollback to succeed',
      timeoutMs: 30_000,
    });
    // The second burn must be judged knowing that production serves rel-001 by Burnback's hand (the ping-pong refusal
    // this file replays). Progress and Cloud Deploy's notifications arrive on different subscriptions and on a loaded
    // machine either may be retried seconds later; judged before that, the burn rightly escalates on low confidence.
    // Both reports are in before it, so in every run the burn is judged on a target whose serving release and its
    // time came from both (the recorded appliedAt lets a replay reproduce either order; this test fixes one).
    await waitFor(
      async () =>
        (await p.env.db.collection(Collections.targets).get()).docs.some((d) => {
          const t = d.data() as TargetRecord;
          return (
            t.target === 'production' &&
            t.returnedTo?.rollbackId === rollback.rollbackId &&
            t.serving?.rollout?.endsWith(`/rollouts/${rollback.command.rolloutId}`) === true &&
            t.historyReadAt !== null &&
            t.timeline.some((s) => s.rollout.endsWith(`/rollouts/${rollback.command.rolloutId}`) && s.state === 'SUCCEEDED')
          );
        })
          ? true
          : undefined,
      { what: 'the decider to record that the rollback returned production, from its progress and from Cloud Deploy', timeoutMs: 30_000 },
    );
    await p.notify(openIncident({ ...p.fixture, incidentId: '0.again' }));
    await p.notify(cpuUtilisationIncident({ ...p.fixture, incidentId: '0.cpu' }));
    await p.notify(closedIncident({ ...p.fixture, incidentId: '0.burn', endedAt: p.fixture.startedAt + 600 }));
    await waitFor(async () => ((await p.decisions()).length === 4 ? true : undefined), { what: 'four decisions' });
    // The decider has recorded the rollback's progress too.
    await waitFor(
      async () =>
        (await p.env.db.collection('progressEvents').get()).docs.some((d) => d.get('progress.stage') === 'succeeded') ? true : undefined,
      { what: 'the progress to be recorded' },
    );
  }, 90_000);
  afterAll(async () => {
    await p.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const cli = async (args: string[], extraEnv: Record<string, string> = {}) => {
    const env = {
      ...process.env,
      GOOGLE_CLOUD_PROJECT: p.env.projectId,
      BURNBACK_CONFIG: p.config.configPath,
      FIRESTORE_EMULATOR_HOST: process.env.FIRESTORE_EMULATOR_HOST!,
      ...extraEnv,
    };
    try {
      const { stdout, stderr } = await run(process.execPath, [...BIN, ...args], { cwd: REPO_ROOT, env });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };

  it('an incident exports its notifications, deploy history, decision with evidence, rollback and progress, in event-time order', async () => {
    const out = join(dir, 'incident.ndjson');
    const exported = await cli(['export', '--incident', '0.burn', '--out', out]);
    expect(exported).toMatchObject({ code: 0, stderr: '' });
    const { header, lines } = readExport(readFileSync(out, 'utf8'));
    expect(header).toMatchObject({ kind: 'burnback-export', version: 1, project: p.env.projectId, selection: { incident: '0.burn' } });
    expect(header.counts).toMatchObject({ notification: 2, decision: 2, rollback: 1, progress: 3 });
    expect(header.counts['deploy-event']).toBeGreaterThanOrEqual(1);
    const times = lines.map((l) => l.at);
    expect(times).toEqual([...times].sort());
    // Each report carries when the decider applied it (the replay's order), never before it was stamped.
    const reports = lines.flatMap((l) => (l.kind === 'progress' || l.kind === 'deploy-event' ? [l] : []));
    expect(reports.filter((l) => !(Date.parse(l.data.appliedAt ?? '') >= Date.parse(l.at)))).toEqual([]);
    const decision = lines.find((l) => l.kind === 'decision' && l.data.action === 'rollback');
    expect(decision?.kind === 'decision' && decision.data.evidence).toMatchObject({
      version: 1,
      alert: { incidentId: '0.burn' },
      policy: { minConfidence: 0.8 },
      policyHash: expect.stringMatching(/^[0-9a-f]{16}$/),
      target: { serving: { releaseId: 'rel-002' } },
    });
    // By its decision id, or its rollback id: the same incident.
    const rollbackId = decision!.kind === 'decision' ? decision!.data.rollbackId! : '';
    const byRollback = await cli(['export', '--rollback', rollbackId]);
    expect(byRollback.stdout).toBe(readFileSync(out, 'utf8'));

    const replayed = await cli(['replay', out]);
    expect(replayed.code).toBe(0);
    expect(replayed.stdout).toMatch(/ROLLBACK +0\.burn {2}roll back: error ratio 2\.5 %/);
    expect(replayed.stdout.trim().split('\n').at(-1)).toBe('2 decision(s) replayed, 0 differ from the recorded ones');
  }, 60_000);

  /** The service's last two hours, exported once (each test that reads it may run alone). */
  let serviceExport: Promise<string> | undefined;
  const exportService = () =>
    (serviceExport ??= (async () => {
      const out = join(dir, 'service.ndjson');
      expect((await cli(['export', '--service', 'api-backend', '--since', '2h', '--out', out])).code).toBe(0);
      return out;
    })());

  it('a service over a range replays with no difference, byte for byte the same in two time zones', async () => {
    const out = await exportService();
    const utc = await cli(['replay', out], { TZ: 'UTC' });
    const kolkata = await cli(['replay', out], { TZ: 'Asia/Kolkata' });
    expect(utc.code).toBe(0);
    expect(kolkata.stdout).toBe(utc.stdout);
    expect(utc.stdout.trim().split('\n').at(-1)).toBe('4 decision(s) replayed, 0 differ from the recorded ones');
    expect(utc.stdout).toMatch(/IGNORE +0\.cpu/);
    expect(utc.stdout).toMatch(/ESCALATE +0\.again/);
  }, 60_000);

  it('a changed record is caught: replay marks the difference and exits 1', async () => {
    const out = await exportService();
    const tampered = join(dir, 'tampered.ndjson');
    writeFileSync(tampered, readFileSync(out, 'utf8').replace('"action":"ignore"', '"action":"rollback"'));
    const replayed = await cli(['replay', tampered]);
    expect(replayed.code).toBe(1);
    expect(replayed.stdout).toMatch(/^ {2}≠ recorded: ROLLBACK .* \(differs in action\)$/m);
    expect(replayed.stdout.trim().split('\n').at(-1)).toBe('4 decision(s) replayed, 1 differs from the recorded ones');
  }, 60_000);

  it('a what-if with a stricter error-ratio threshold skips exactly the rollback of the 2.5 % burn, and says why', async () => {
    const out = await exportService();
    const stricter = join(dir, 'stricter.yaml');
    writeFileSync(stricter, readFileSync(p.config.configPath, 'utf8').replace(/errorRatioThreshold: [0-9.]+/, 'errorRatioThreshold: 0.03'));
    const same = await cli(['replay', out, '--policy', p.config.configPath]);
    expect(same.stdout).toMatch(/^what-if: 0 rollback\(s\) skipped, 0 added; 0 of 4 decision\(s\) change action$/m);
    const whatIf = await cli(['replay', out, '--policy', stricter]);
    expect(whatIf.code).toBe(0);
    expect(whatIf.stdout).toMatch(
      /^- would skip the rollback of api-backend for incident 0\.burn \(.*\): no rollback: error ratio 2\.5 % does not exceed the threshold of 3 %$/m,
    );
    // The second burn, which escalated as ping-pong, is now under the bar too: held, not a rollback either way.
    expect(whatIf.stdout).toMatch(/^ {2}≠ recorded: ESCALATE {2}escalate: production serves rel-001, the release Burnback returned to/m);
    expect(whatIf.stdout).toMatch(/^what-if: 1 rollback\(s\) skipped, 0 added; 2 of 4 decision\(s\) change action$/m);
  }, 60_000);

  it('--through-pipeline: the notifications go through the real services on fresh emulators, and the same decisions and rollbacks come out', async () => {
    const out = await exportService();
    const replayed = await cli(['replay', out, '--through-pipeline', '--config', p.config.configPath]);
    const last = replayed.stdout.trim().split('\n').at(-1);
    // On a difference, the whole report and the replay's standard error are in the failure.
    const failed = replayed.code !== 0;
    expect({ code: replayed.code, last, stdout: failed ? replayed.stdout : '', stderr: failed ? replayed.stderr : '' }).toEqual({
      code: 0,
      last: 'through the pipeline: 4 decision(s) and 1 rollback(s) replayed, 0 differ from the recorded ones',
      stdout: '',
      stderr: '',
    });
    expect(replayed.stdout).toMatch(/ROLLBACK +0\.burn {2}roll back: error ratio 2\.5 %/);
    expect(replayed.stdout).toMatch(/ESCALATE +0\.again {2}escalate: production serves rel-001, the release Burnback returned to/);
    // Its reason names when the rollback returned production, to the millisecond: the replayed executor reported the
    // rollback's end at the recorded time, however slowly the replay ran.
    const again = readExport(readFileSync(out, 'utf8')).lines.find((l) => l.kind === 'decision' && l.data.incidentId === '0.again');
    expect(again?.kind === 'decision' && again.data.reason).toMatch(/ at \d{4}-\d\d-\d\dT[\d:.]+Z\)/);
    expect(replayed.stdout).toContain(`0.again  ${again?.kind === 'decision' ? again.data.reason : '?'}\n`);
    expect(replayed.stdout).toMatch(/^rollback rb-[0-9a-f]+ of api-backend: succeeded, rel-002 → rel-001$/m);
    // Fresh emulators: it started its own and stopped them (it says where, on standard error).
    expect(replayed.stderr).toMatch(/^replay: starting a fresh pubsub emulator on 127\.0\.0\.1:\d+$/m);
  }, 180_000);

  it('--through-pipeline catches a record the pipeline does not reproduce', async () => {
    const out = await exportService();
    const tampered = join(dir, 'tampered-pipeline.ndjson');
    writeFileSync(tampered, readFileSync(out, 'utf8').replace('"action":"ignore"', '"action":"hold"'));
    const replayed = await cli(['replay', tampered, '--through-pipeline', '--config', p.config.configPath]);
    expect(replayed.code).toBe(1);
    expect(replayed.stdout).toMatch(/^ {2}≠ recorded: HOLD .* \(differs in action\)$/m);
    expect(replayed.stdout.trim().split('\n').at(-1)).toBe(
      'through the pipeline: 4 decision(s) and 1 rollback(s) replayed, 1 differ from the recorded ones',
    );
  }, 180_000);

  it('refuses what is not an export, naming the line', async () => {
    const bad = join(dir, 'bad.ndjson');
    writeFileSync(bad, '{"kind":"something-else"}\n');
    const replayed = await cli(['replay', bad]);
    expect(replayed.code).toBe(2);
    expect(replayed.stderr).toMatch(/^cannot replay .*bad\.ndjson: line 1: not a Burnback export header/);
    expect((await cli(['export', '--incident', '0.none'])).stderr).toMatch(/^nothing to export: no decision matches/);
    expect((await cli(['export'])).code).toBe(2);
  }, 60_000);
});
