import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEFAULT_POLICY, PolicyUserLabels, Subscriptions, Topics } from '@burnback/contracts';
import { cloudRunMemory, ServiceRuntime } from '@burnback/platform';
import {
  checkInfra,
  contractExpectations,
  loadTerraform,
  memoryMiBOf,
  publishersFromCode,
  pubsubInventory,
  secretReads,
  servicesFromCode,
  subscribersFromCode,
  type ParsedTf,
} from './infra-check';

const INFRA = path.resolve(__dirname, '..');
const terraformOnPath = spawnSync('terraform', ['version'], { encoding: 'utf8' }).status === 0;

const scratch: string[] = [];
afterAll(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

/** A copy of infra/ (modules and envs) in a temp dir, for edits that must make a check fail. */
function copyOfInfra(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'burnback-infra-'));
  scratch.push(dir);
  for (const sub of ['modules', 'envs']) cpSync(path.join(INFRA, sub), path.join(dir, sub), { recursive: true });
  return dir;
}

/** Replaces text in one file of a copy; fails loudly if the text is not there (a stale edit would prove nothing). */
function edit(root: string, file: string, from: string | RegExp, to: string): void {
  const full = path.join(root, file);
  const before = readFileSync(full, 'utf8');
  const after = before.replace(from, to);
  if (after === before) throw new Error(`edit of ${file} changed nothing: ${String(from)} not found`);
  writeFileSync(full, after);
}

/** Replaces text in every *.tf file of a copy (a consistent rename). */
function renameEverywhere(root: string, from: string, to: string): void {
  const files = readdirSync(root, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.tf'))
    .map((f) => path.join(root, f));
  let changed = 0;
  for (const file of files) {
    const before = readFileSync(file, 'utf8');
    const after = before.split(from).join(to);
    if (after !== before) {
      writeFileSync(file, after);
      changed++;
    }
  }
  if (changed === 0) throw new Error(`${from} appears in no .tf file`);
}

async function problemsOf(root: string): Promise<string[]> {
  return checkInfra(await loadTerraform(root));
}

/** A copy of infra/ whose prod environment gives the notifier two destination secrets. */
function copyWithNotifierSecrets(): string {
  const root = copyOfInfra();
  edit(
    root,
    'envs/prod/main.tf',
    'notifier_secret_env = var.notifier_secret_env',
    'notifier_secret_env = { PAGERDUTY_ROUTING_KEY = "burnback-pagerduty-routing-key", SLACK_WEBHOOK_URL = "burnback-slack-webhook-url" }',
  );
  return root;
}

describe('the Terraform in infra/', () => {
  let parsed: ParsedTf;
  beforeAll(async () => {
    parsed = await loadTerraform(INFRA);
  });

  test('passes every check against packages/contracts', () => {
    expect(checkInfra(parsed)).toEqual([]);
  });

  test('has one module per concern and a prod environment', () => {
    expect(Object.keys(parsed.modules).sort()).toEqual([
      'envs/prod',
      'modules/burnback-services',
      'modules/delivery-pipeline',
      'modules/firestore',
      'modules/identities',
      'modules/monitoring',
      'modules/pubsub',
    ]);
  });

  test('creates every topic and subscription the code uses, with the same names and topics', () => {
    const inventory = pubsubInventory(parsed);
    expect(inventory.topics).toEqual(expect.arrayContaining(Object.values(Topics)));
    for (const sub of Object.values(Subscriptions)) {
      expect(inventory.subscriptions).toContainEqual({ name: sub.name, topic: sub.topic });
    }
  });

  test('creates the clouddeploy-operations and clouddeploy-approvals topics Cloud Deploy publishes its notifications to', () => {
    expect(pubsubInventory(parsed).topics).toEqual(expect.arrayContaining([Topics.clouddeployOperations, Topics.clouddeployApprovals]));
  });

  test('reads from the code which topics each service publishes to', () => {
    const published = publishersFromCode().map((p) => `${p.service} -> ${p.topic}`);
    expect(published).toEqual(
      expect.arrayContaining([
        'ingest -> burnback-alerts',
        'ingest -> burnback-alerts-bulk',
        'decider -> burnback-commands',
        'executor -> burnback-progress',
        'ingest -> burnback-dead-letter',
        'decider -> burnback-dead-letter',
        'executor -> burnback-dead-letter',
        'notifier -> burnback-dead-letter',
      ]),
    );
    expect(published).not.toContain('ingest -> burnback-commands');
    // The executor tracks rollouts from Firestore: it never re-publishes a command.
    expect(published).not.toContain('executor -> burnback-commands');
  });

  test('reads from the code which subscriptions each service consumes, and finds a consumer for every one in the contracts', () => {
    const consumed = subscribersFromCode();
    expect(consumed.map((s) => `${s.service} <- ${s.subscription}`)).toEqual(
      expect.arrayContaining([
        `decider <- ${Subscriptions.decider.name}`,
        `decider <- ${Subscriptions.deciderBulk.name}`,
        `executor <- ${Subscriptions.executor.name}`,
        `notifier <- ${Subscriptions.notifierDecisions.name}`,
        `notifier <- ${Subscriptions.notifierProgress.name}`,
      ]),
    );
    expect([...new Set(consumed.map((s) => s.subscription))].sort()).toEqual(
      Object.values(Subscriptions)
        .map((s) => s.name)
        .sort(),
    );
  });

  test('reads from the code which services there are, which one is the HTTP front door, and which use Firestore', () => {
    const services = servicesFromCode();
    expect(services.map((s) => s.name).sort()).toEqual(['decider', 'executor', 'ingest', 'notifier']);
    expect(services.filter((s) => s.frontDoor).map((s) => s.name)).toEqual(['ingest']);
    expect(services.find((s) => s.name === 'notifier')!.firestore).toMatch(/^services\/notifier\/src\//);
  });

  test('reads each Cloud Run memory limit the way Cloud Run does', () => {
    expect([memoryMiBOf('256Mi'), memoryMiBOf('0.5Gi'), memoryMiBOf('268435456'), memoryMiBOf('256 MiB')]).toEqual([256, 512, 256, null]);
  });

  test('mounts the config in every service, and gives the webhook token to ingest alone', () => {
    const reads = secretReads(parsed).map((r) => `${r.service}: ${r.env ?? 'volume'} <- ${String(r.secret)}`);
    expect(reads.sort()).toEqual([
      'decider: volume <- burnback-config',
      'executor: volume <- burnback-config',
      'ingest: BURNBACK_WEBHOOK_TOKEN <- burnback-webhook-token',
      'ingest: volume <- burnback-config',
      'notifier: volume <- burnback-config',
    ]);
  });

  test('gives the notifier, and no other service, each destination secret of notifier_secret_env, with access to it', async () => {
    const withSecrets = await loadTerraform(copyWithNotifierSecrets());
    expect(checkInfra(withSecrets)).toEqual([]);
    const env = secretReads(withSecrets).filter((r) => r.env !== null && r.env !== 'BURNBACK_WEBHOOK_TOKEN');
    expect(env.map((r) => `${r.service}: ${r.env} <- ${String(r.secret)}`).sort()).toEqual([
      'notifier: PAGERDUTY_ROUTING_KEY <- burnback-pagerduty-routing-key',
      'notifier: SLACK_WEBHOOK_URL <- burnback-slack-webhook-url',
    ]);
  });

  const fmt = terraformOnPath ? test : test.skip;
  fmt(`is canonically formatted (terraform fmt -check -recursive)${terraformOnPath ? '' : ' [skipped: terraform is not on PATH]'}`, () => {
    const run = spawnSync('terraform', ['fmt', '-check', '-recursive', '-diff', INFRA], { encoding: 'utf8' });
    expect({ status: run.status, stdout: run.stdout }).toEqual({ status: 0, stdout: '' });
  });
});

describe('the checks fail when code and Terraform disagree', () => {
  test('a topic renamed in Terraform only is reported by the name the code uses', async () => {
    const root = copyOfInfra();
    renameEverywhere(root, '"burnback-commands"', '"burnback-command"');
    const problems = await problemsOf(root);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^topic "burnback-commands" is used by the code .* no google_pubsub_topic in Terraform is named "burnback-commands"/,
        ),
        expect.stringContaining(
          `subscription "${Subscriptions.executor.name}" reads topic "burnback-command" in Terraform but "burnback-commands" in the code`,
        ),
      ]),
    );
  });

  test('a composite index the code needs that Terraform lacks, or orders differently, is reported', async () => {
    const root = copyOfInfra();
    edit(
      root,
      'modules/firestore/main.tf',
      /field_path = "decidedAt"\n(\s*)order(\s*)= "DESCENDING"/,
      'field_path = "decidedAt"\n$1order$2= "ASCENDING"',
    );
    expect(await problemsOf(root)).toEqual([
      expect.stringMatching(
        /^Firestore index decisions_by_service decisions\(service ASCENDING, decidedAt DESCENDING, __name__ DESCENDING\) is needed by the code/,
      ),
    ]);
  });

  test('a topic renamed in the code only is reported too', async () => {
    const expectations = contractExpectations();
    expectations.topics = expectations.topics.map((t) => (t === Topics.alerts ? 'burnback-alert-events' : t));
    const problems = checkInfra(await loadTerraform(INFRA), expectations);
    expect(problems).toEqual([expect.stringContaining('topic "burnback-alert-events" is used by the code')]);
  });

  test('a subscription renamed in Terraform only is reported by the name the code uses', async () => {
    const root = copyOfInfra();
    edit(root, 'modules/pubsub/main.tf', '"burnback-decider-progress" = {', '"burnback-progress-decider" = {');
    expect(await problemsOf(root)).toEqual([
      expect.stringMatching(
        /^subscription "burnback-decider-progress" is used by the code .* no google_pubsub_subscription in Terraform is named "burnback-decider-progress"/,
      ),
      // The decider's grant went to the renamed one.
      expect.stringMatching(
        /^service "decider" consumes subscription "burnback-decider-progress" .* no google_pubsub_subscription_iam_member grants/,
      ),
    ]);
  });

  test("the bulk lane: ingest's publisher grant on burnback-alerts-bulk removed is reported", async () => {
    const root = copyOfInfra();
    edit(root, 'modules/pubsub/main.tf', /\n\s*"burnback-alerts-bulk\/ingest"\s*=[^\n]*/, '');
    expect(await problemsOf(root)).toEqual([
      expect.stringMatching(
        /^service "ingest" publishes to topic "burnback-alerts-bulk" \(services\/ingest\/src\/[a-z-]+\.ts\) but no google_pubsub_topic_iam_member grants ingest roles\/pubsub\.publisher on it$/,
      ),
    ]);
  });

  test('the bulk lane: burnback-decider-bulk ordered in Terraform, though the code does not order it, is reported', async () => {
    const root = copyOfInfra();
    edit(root, 'modules/pubsub/main.tf', /("burnback-decider-bulk" = \{\s*topic\s*= "burnback-alerts-bulk"\s*ordered\s*= )false/, '$1true');
    expect(await problemsOf(root)).toEqual([
      expect.stringContaining(
        'subscription "burnback-decider-bulk": enable_message_ordering is true in Terraform, but the code does not order it (ordered: false)',
      ),
    ]);
  });

  test('subscriptions without a dead-letter policy are reported by name', async () => {
    const root = copyOfInfra();
    edit(root, 'modules/pubsub/main.tf', /\n\s*dead_letter_policy \{[^}]*\}\n/, '\n');
    const problems = await problemsOf(root);
    for (const sub of Object.values(Subscriptions)) {
      expect(problems).toContainEqual(expect.stringMatching(new RegExp(`^subscription "${sub.name}" .* has no dead_letter_policy$`)));
    }
  });

  test('a new subscription without a dead-letter policy is reported by name', async () => {
    const root = copyOfInfra();
    appendFileSync(
      path.join(root, 'modules/pubsub/main.tf'),
      `
resource "google_pubsub_subscription" "audit" {
  project              = var.project_id
  name                 = "burnback-alerts-audit"
  topic                = google_pubsub_topic.topic["burnback-alerts"].id
  ack_deadline_seconds = 60
}
`,
    );
    expect(await problemsOf(root)).toEqual([
      expect.stringMatching(/^subscription "burnback-alerts-audit" .* has no dead_letter_policy$/),
      expect.stringMatching(/^subscription "burnback-alerts-audit" .* has no retry_policy$/),
    ]);
  });

  test('an ordered subscription created without message ordering is reported', async () => {
    const root = copyOfInfra();
    edit(root, 'modules/pubsub/main.tf', /("burnback-executor" = \{\s*topic\s*= "burnback-commands"\s*ordered\s*= )true/, '$1false');
    expect(await problemsOf(root)).toEqual([
      expect.stringContaining(
        'subscription "burnback-executor": enable_message_ordering is false in Terraform, but the code relies on ordering',
      ),
    ]);
  });

  test(`a burn-rate threshold other than DEFAULT_POLICY.fastBurnRate (${DEFAULT_POLICY.fastBurnRate}) is reported`, async () => {
    const root = copyOfInfra();
    edit(root, 'modules/monitoring/main.tf', `threshold_value = ${DEFAULT_POLICY.fastBurnRate}`, 'threshold_value = 10');
    expect(await problemsOf(root)).toEqual([
      expect.stringMatching(
        /google_monitoring_alert_policy\.fast_burn .*: the fast burn-rate threshold over 3600s is 10, expected DEFAULT_POLICY\.fastBurnRate = 14\.4$/,
      ),
    ]);
  });

  test(`a slow-burn threshold other than DEFAULT_POLICY.slowBurnRate (${DEFAULT_POLICY.slowBurnRate}) is reported`, async () => {
    const root = copyOfInfra();
    edit(root, 'modules/monitoring/main.tf', /threshold_value = 6\b/g, 'threshold_value = 5');
    const problems = await problemsOf(root);
    expect(problems).toHaveLength(2);
    expect(problems).toContainEqual(
      expect.stringContaining('the slow burn-rate threshold over 21600s is 5, expected DEFAULT_POLICY.slowBurnRate = 6'),
    );
    expect(problems).toContainEqual(expect.stringContaining('the slow burn-rate threshold over 1800s is 5'));
  });

  test('a burn-rate window other than BurnRateWindows is reported', async () => {
    const root = copyOfInfra();
    edit(root, 'modules/monitoring/main.tf', '\\"300s\\")"', '\\"600s\\")"');
    const problems = await problemsOf(root);
    expect(problems).toContainEqual(expect.stringContaining('burn-rate window 600s is not one of BurnRateWindows'));
    expect(problems).toContainEqual(expect.stringContaining('the fast burn over 3600s is not confirmed by a 300s window'));
  });

  test('a burn-rate alert without a Burnback user label is reported', async () => {
    const root = copyOfInfra();
    edit(root, 'modules/monitoring/main.tf', /\n\s*"burnback-target"\s*= var\.target_name/g, '');
    expect(await problemsOf(root)).toEqual([
      expect.stringContaining(
        `google_monitoring_alert_policy.fast_burn (modules/monitoring/main.tf): user label "${PolicyUserLabels.target}" (PolicyUserLabels) is missing`,
      ),
      expect.stringContaining(
        `google_monitoring_alert_policy.slow_burn (modules/monitoring/main.tf): user label "${PolicyUserLabels.target}" (PolicyUserLabels) is missing`,
      ),
    ]);
  });

  test('a notification channel that no longer publishes to monitoring-incidents is reported', async () => {
    const root = copyOfInfra();
    edit(root, 'envs/prod/main.tf', 'module.pubsub.topic_ids["monitoring-incidents"]', 'module.pubsub.topic_ids["burnback-alerts"]');
    const problems = await problemsOf(root);
    expect(problems).toContainEqual('no google_monitoring_notification_channel of type "pubsub" publishes to topic "monitoring-incidents"');
    expect(problems).toContainEqual(expect.stringContaining('the Monitoring notification service agent'));
  });

  test("a service that publishes to a topic without a publisher grant is reported (the executor's progress)", async () => {
    const root = copyOfInfra();
    edit(root, 'modules/pubsub/main.tf', /\n\s*"burnback-progress\/executor"\s*=[^\n]*/, '');
    expect(await problemsOf(root)).toEqual([
      expect.stringMatching(
        /^service "executor" publishes to topic "burnback-progress" \(services\/executor\/src\/[a-z-]+\.ts\) but no google_pubsub_topic_iam_member grants executor roles\/pubsub\.publisher on it$/,
      ),
    ]);
  });

  test("a service that dead-letters without a publisher grant on burnback-dead-letter is reported (the notifier's given-up deliveries)", async () => {
    const root = copyOfInfra();
    edit(root, 'modules/pubsub/main.tf', /\n\s*"burnback-dead-letter\/notifier"\s*=[^\n]*/, '');
    expect(await problemsOf(root)).toEqual([
      expect.stringMatching(
        /^service "notifier" publishes to topic "burnback-dead-letter" \(packages\/platform\/src\/[a-z-]+\.ts\) but no google_pubsub_topic_iam_member grants notifier roles\/pubsub\.publisher on it$/,
      ),
    ]);
  });

  test("a subscription granted to another service than the one whose code consumes it is reported (the notifier's decisions)", async () => {
    const root = copyOfInfra();
    edit(root, 'modules/pubsub/main.tf', /("burnback-notifier-decisions" = \{[^}]*consumer\s*= )"notifier"/, '$1"decider"');
    expect(await problemsOf(root)).toEqual([
      expect.stringMatching(
        /^service "notifier" consumes subscription "burnback-notifier-decisions" \(services\/notifier\/src\/service\.ts\) but no google_pubsub_subscription_iam_member grants notifier roles\/pubsub\.subscriber on it$/,
      ),
    ]);
  });

  test('a new subscription in the code without a grant is reported', async () => {
    const expectations = contractExpectations();
    expectations.subscribers.push({
      service: 'notifier',
      subscription: Subscriptions.executor.name,
      source: 'services/notifier/src/service.ts',
    });
    expect(checkInfra(await loadTerraform(INFRA), expectations)).toEqual([
      expect.stringContaining(`service "notifier" consumes subscription "${Subscriptions.executor.name}"`),
    ]);
  });

  test('a service without a service account of its own is reported (the notifier)', async () => {
    const root = copyOfInfra();
    edit(root, 'modules/identities/main.tf', /\n\s*notifier\s*= "Burnback notifier:[^\n]*/, '');
    expect(await problemsOf(root)).toEqual([
      'service "notifier" has no google_service_account of its own (no account_id ends in "-notifier")',
    ]);
  });

  test('a service without a Cloud Run service is reported (the notifier)', async () => {
    const root = copyOfInfra();
    edit(root, 'modules/burnback-services/main.tf', /\n {4}notifier = \{\n(?: {6}[^\n]*\n)+ {4}\}/, '');
    expect(await problemsOf(root)).toEqual([
      'service "notifier" has no google_cloud_run_v2_service running as its service account (var.service_accounts["notifier"])',
    ]);
  });

  test('a service that uses Firestore without roles/datastore.user is reported (the notifier)', async () => {
    const root = copyOfInfra();
    edit(root, 'modules/burnback-services/main.tf', /\n\s*"notifier\/datastore"\s*=[^\n]*/, '');
    expect(await problemsOf(root)).toEqual([
      expect.stringMatching(
        /^service "notifier" uses Firestore \(services\/notifier\/src\/[a-z-]+\.ts\) but no google_project_iam_member grants notifier roles\/datastore\.user$/,
      ),
    ]);
  });

  test('a service without an HTTP front door that is open to the internet, or invokable, is reported (the notifier)', async () => {
    const root = copyOfInfra();
    edit(
      root,
      'modules/burnback-services/main.tf',
      /(name\s*= "\$\{var\.name_prefix\}-notifier"[^}]*ingress\s*= )"INGRESS_TRAFFIC_INTERNAL_ONLY"/,
      '$1"INGRESS_TRAFFIC_ALL"',
    );
    appendFileSync(
      path.join(root, 'modules/burnback-services/main.tf'),
      `
resource "google_cloud_run_v2_service_iam_member" "notifier_invoker" {
  project  = var.project_id
  location = var.region
  name     = google_cloud_run_v2_service.service["notifier"].name
  role     = "roles/run.invoker"
  member   = "allUsers"
}
`,
    );
    expect(await problemsOf(root)).toEqual([
      expect.stringMatching(
        /^google_cloud_run_v2_service\.service\["notifier"\] .*: service "notifier" has no HTTP front door, but its ingress is "INGRESS_TRAFFIC_ALL"/,
      ),
      expect.stringMatching(
        /^google_cloud_run_v2_service_iam_member\.notifier_invoker .*: grants roles\/run\.invoker on "burnback-notifier", but service "notifier" has no HTTP front door$/,
      ),
    ]);
  });

  test('a pull subscriber that may scale to zero is reported, for each service that pulls', async () => {
    const root = copyOfInfra();
    edit(root, 'modules/burnback-services/variables.tf', /(variable "min_instances" \{[^}]*default\s*= )1/, '$10');
    const problems = await problemsOf(root);
    expect(problems).toHaveLength(4);
    expect(problems).toContainEqual(
      expect.stringMatching(
        /^google_cloud_run_v2_service\.service\["notifier"\] .*: service "notifier" pulls subscriptions but min_instance_count is 0; a pull subscriber needs at least 1$/,
      ),
    );
  });

  test("a memory limit other than ServiceRuntime's is reported (the decider's), by the heap bound its image is sized for", async () => {
    const root = copyOfInfra();
    edit(root, 'modules/burnback-services/main.tf', /(name\s*= "\$\{var\.name_prefix\}-decider"[^}]*memory\s*= )"256Mi"/, '$1"512Mi"');
    expect(await problemsOf(root)).toEqual([
      `google_cloud_run_v2_service.service["decider"] (modules/burnback-services/main.tf): service "decider" has memory limit "512Mi", but ServiceRuntime gives it ${cloudRunMemory(ServiceRuntime.decider.memoryMiB)}, which its heap bound (${ServiceRuntime.decider.nodeOptions}) is sized for`,
    ]);
  });

  test('a memory limit under 512Mi without the first-generation execution environment is reported, for each service', async () => {
    const root = copyOfInfra();
    edit(root, 'modules/burnback-services/main.tf', /\n\s*execution_environment\s*= "EXECUTION_ENVIRONMENT_GEN1"/, '');
    const problems = await problemsOf(root);
    expect(problems).toHaveLength(4);
    expect(problems).toContainEqual(
      expect.stringMatching(
        /^google_cloud_run_v2_service\.service\["ingest"\] .*: service "ingest" has 256Mi of memory, below the second generation's 512Mi minimum, but execution_environment is unset, not "EXECUTION_ENVIRONMENT_GEN1"$/,
      ),
    );
  });

  test("a NODE_OPTIONS a Cloud Run service sets over its image's heap bound is reported", async () => {
    const root = copyOfInfra();
    edit(
      root,
      'modules/burnback-services/main.tf',
      'env {\n        name  = "LOG_LEVEL"',
      'env {\n        name  = "NODE_OPTIONS"\n        value = "--max-old-space-size=2048"\n      }\n      env {\n        name  = "LOG_LEVEL"',
    );
    const problems = await problemsOf(root);
    expect(problems).toHaveLength(4);
    expect(problems).toContainEqual(
      expect.stringMatching(
        /\["executor"\] .*: service "executor" sets NODE_OPTIONS to "--max-old-space-size=2048", not its image's --max-old-space-size=128/,
      ),
    );
  });

  test("a secret a service reads without a grant to that service's account is reported (the notifier's destination secrets)", async () => {
    const root = copyWithNotifierSecrets();
    edit(
      root,
      'modules/burnback-services/main.tf',
      /(resource "google_secret_manager_secret_iam_member" "notifier_secret_reader" \{[^}]*var\.service_accounts\[)"notifier"/,
      '$1"decider"',
    );
    expect(await problemsOf(root)).toEqual([
      expect.stringMatching(
        /^google_cloud_run_v2_service\.service\["notifier"\] .* reads env PAGERDUTY_ROUTING_KEY from a secret "burnback-pagerduty-routing-key", but no google_secret_manager_secret_iam_member grants notifier roles\/secretmanager\.secretAccessor on it$/,
      ),
      expect.stringContaining('reads env SLACK_WEBHOOK_URL from a secret "burnback-slack-webhook-url", but no'),
    ]);
  });

  test('a new publish in the code without a grant is reported', async () => {
    const expectations = contractExpectations();
    expectations.publishers.push({ service: 'ingest', topic: Topics.progress, source: 'services/ingest/src/handler.ts' });
    expect(checkInfra(await loadTerraform(INFRA), expectations)).toEqual([
      expect.stringContaining('service "ingest" publishes to topic "burnback-progress"'),
    ]);
  });

  test('a roles/editor grant anywhere is reported', async () => {
    const root = copyOfInfra();
    appendFileSync(
      path.join(root, 'envs/prod/main.tf'),
      `
resource "google_project_iam_member" "shortcut" {
  project = var.project_id
  role    = "roles/editor"
  member  = module.identities.members["executor"]
}
`,
    );
    expect(await problemsOf(root)).toEqual([
      'envs/prod/main.tf: google_project_iam_member.shortcut.role grants the primitive role roles/editor; grant a predefined role on the narrowest resource instead',
    ]);
  });

  test('a primitive role hidden in a for_each list is reported', async () => {
    const root = copyOfInfra();
    edit(root, 'modules/delivery-pipeline/main.tf', '"roles/run.developer",', '"roles/run.developer", "roles/owner",');
    expect(await problemsOf(root)).toEqual([expect.stringContaining('grants the primitive role roles/owner')]);
  });

  test('variables without a description are reported', async () => {
    const root = copyOfInfra();
    appendFileSync(path.join(root, 'modules/pubsub/variables.tf'), '\nvariable "undocumented" {\n  type = string\n}\n');
    appendFileSync(path.join(root, 'envs/prod/variables.tf'), '\nvariable "blank" {\n  description = "  "\n  type        = string\n}\n');
    expect((await problemsOf(root)).sort()).toEqual([
      'envs/prod/variables.tf: variable "blank" has no description',
      'modules/pubsub/variables.tf: variable "undocumented" has no description',
    ]);
  });

  test('a canary other than 25/50/100 is reported', async () => {
    const root = copyOfInfra();
    edit(root, 'modules/delivery-pipeline/main.tf', 'percentages = [25, 50]', 'percentages = [10, 50]');
    expect(await problemsOf(root)).toEqual([expect.stringContaining("the last stage's canary percentages are [10,50], expected [25,50]")]);
  });

  const fmt = terraformOnPath ? test : test.skip;
  fmt(
    `terraform fmt -check fails on a file that is not canonically formatted${terraformOnPath ? '' : ' [skipped: terraform is not on PATH]'}`,
    () => {
      const root = copyOfInfra();
      edit(root, 'modules/firestore/main.tf', 'type        = "FIRESTORE_NATIVE"', 'type = "FIRESTORE_NATIVE"');
      const run = spawnSync('terraform', ['fmt', '-check', '-recursive', root], { encoding: 'utf8' });
      expect(run.status).not.toBe(0);
      expect(run.stdout).toContain('main.tf');
    },
  );
});
