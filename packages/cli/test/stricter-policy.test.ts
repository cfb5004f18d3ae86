import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '@burnback/platform';
import { REPO_ROOT } from '../src/local-stack';

/** A config file as `replay --policy FILE` loads it (packages/cli/src/commands/replay.ts). */
const load = (file: string) => loadConfig({ GOOGLE_CLOUD_PROJECT: 'burnback-replay', BURNBACK_CONFIG: join(REPO_ROOT, file) });

describe("the README's what-if policy, config/stricter.yaml", () => {
  it('loads with the loader replay --policy uses, and names no service: its policy applies to every one', () => {
    const config = load('config/stricter.yaml');
    expect(config.services.size).toBe(0);
    expect(config.policy).toMatchObject({
      enabled: true,
      mode: 'auto',
      errorRatioThreshold: 0.03,
      maxRollbacksPerHour: 1,
      cooldownMinutes: 60,
      minConfidence: 0.95,
      breakerBurningServices: 3,
      breakerInFlightRollbacks: 2,
      maxAlertAgeMinutes: 30,
    });
  });

  it('is stricter than config/local.yaml on every rule it tightens, and looser on none', () => {
    const strict = load('config/stricter.yaml').policy;
    const local = load('config/local.yaml').policy;
    // A higher bar, a higher confidence, fewer and rarer rollbacks, an earlier breaker, a shorter age for an unconfirmed burn.
    expect(strict.errorRatioThreshold).toBeGreaterThan(local.errorRatioThreshold);
    expect(strict.minConfidence).toBeGreaterThan(local.minConfidence);
    expect(strict.maxRollbacksPerHour).toBeLessThan(local.maxRollbacksPerHour);
    expect(strict.cooldownMinutes).toBeGreaterThan(local.cooldownMinutes);
    expect(strict.breakerBurningServices).toBeLessThan(local.breakerBurningServices);
    expect(strict.breakerInFlightRollbacks).toBeLessThan(local.breakerInFlightRollbacks);
    expect(strict.maxAlertAgeMinutes).toBeLessThanOrEqual(local.maxAlertAgeMinutes);
    // The same for the rest: what it does not tighten reads as local.yaml does.
    expect(strict).toMatchObject({
      enabled: local.enabled,
      mode: local.mode,
      sloGoal: local.sloGoal,
      fastBurnRate: local.fastBurnRate,
      slowBurnRate: local.slowBurnRate,
      breakerWindowMinutes: local.breakerWindowMinutes,
      freeze: local.freeze,
    });
  });

  it('is the file the README gives to replay --policy', () => {
    expect(readFileSync(join(REPO_ROOT, 'README.md'), 'utf8')).toContain('replay inc.ndjson --policy config/stricter.yaml');
  });
});
