import type { Strategy } from './resources.js';

/** Phase ids a strategy produces: `canary-{n}` per canary percentage, then `stable`. */
export function phaseIdsOf(strategy: Strategy | undefined): string[] {
  const canary = strategy?.canary;
  if (canary?.canaryDeployment) return [...canary.canaryDeployment.percentages.map((p) => `canary-${p}`), 'stable'];
  if (canary?.customCanaryDeployment) return canary.customCanaryDeployment.phaseConfigs.map((c) => c.phaseId);
  return ['stable'];
}

export function verifiesIn(strategy: Strategy | undefined): boolean {
  return Boolean(strategy?.standard?.verify ?? strategy?.canary?.canaryDeployment?.verify ?? false);
}
