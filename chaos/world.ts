import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { decisionIdFor } from '@burnback/contracts';
import { notificationIdFor } from '@burnback/ingest';
import { closedIncident, cpuUtilisationIncident, generatedServiceEntry, notificationBytes, openIncident } from '@burnback/testkit';
import { InputKinds, type ChaosInput, type ChaosService, type InputKind } from './properties.js';

/** How big a run is. */
export interface ChaosShape {
  /** Services with one burning incident each, among calm, closed and unsupported ones and a re-notification. */
  soleServices: number;
  /** Services with several burning incidents, a cooldown of 0 and at most one rollback an hour: the rate limit decides. */
  contendedServices: number;
  /** Burning incidents per contended service. */
  burnsPerContended: number;
  /** Invalid inputs (of the three invalid kinds, in turn). */
  invalidInputs: number;
  /** Each notification is published 1..maxCopies times. */
  maxCopies: number;
}

export const serviceName = (i: number): string => `chaos-${String(i).padStart(2, '0')}`;

/**
 * The run's Burnback config: the local config's policy with the fleet breaker
 * raised past the number of services (every service here burns on purpose; the
 * breaker's own tests are elsewhere), each service its own Cloud Run service,
 * pipeline and production target, contended services with a cooldown of 0 and
 * one rollback an hour.
 */
export function writeChaosConfig(shape: ChaosShape, dir: string, repoRoot: string): { path: string; services: ChaosService[] } {
  const local = parseYaml(readFileSync(join(repoRoot, 'config/local.yaml'), 'utf8')) as { policy: Record<string, unknown> };
  const count = shape.soleServices + shape.contendedServices;
  const policy: Record<string, unknown> = { ...local.policy, breakerBurningServices: count + 1, breakerInFlightRollbacks: count + 1 };
  const services: ChaosService[] = [];
  const file: Record<string, unknown> = {};
  for (let i = 0; i < count; i++) {
    const name = serviceName(i);
    const contended = i >= shape.soleServices;
    const overrides = contended ? { cooldownMinutes: 0, maxRollbacksPerHour: 1 } : {};
    file[name] = { ...generatedServiceEntry(name), ...(contended ? { policy: overrides } : {}) };
    services.push({
      name,
      pipeline: `${name}-pipeline`,
      maxRollbacksPerHour: contended ? 1 : Number(policy.maxRollbacksPerHour),
      cooldownMinutes: contended ? 0 : Number(policy.cooldownMinutes),
    });
  }
  const path = join(dir, 'chaos.yaml');
  writeFileSync(path, stringifyYaml({ policy, services: file }));
  return { path, services };
}

/**
 * Every notification of the run, each with how many times it is published
 * (1..maxCopies, seeded). `startedAt` (unix seconds) is after the serving
 * releases were announced, so a burn is blamed on the serving release.
 */
export function chaosInputs(
  shape: ChaosShape,
  services: readonly ChaosService[],
  projectId: string,
  startedAt: number,
  random: () => number,
): ChaosInput[] {
  const inputs: ChaosInput[] = [];
  const copies = () => 1 + Math.floor(random() * shape.maxCopies);
  const valid = (id: string, kind: InputKind, service: string, notification: ReturnType<typeof openIncident>) => {
    const bytes = notificationBytes(notification);
    const incidentId = notification.incident.incident_id;
    const state = notification.incident.state;
    const decisionId = decisionIdFor(
      incidentId,
      state,
      new Date(notification.incident.started_at * 1000).toISOString(),
      notificationIdFor(incidentId, state, bytes),
    );
    inputs.push({ id, kind, service, incidentId, decisionId, bytes, copies: copies() });
  };
  services.forEach((s, i) => {
    const at = { service: s.name, projectId, startedAt };
    if (i < shape.soleServices) {
      const burn = `0.${s.name}-burn`;
      valid(`${s.name}/burn`, InputKinds.burn, s.name, openIncident({ ...at, incidentId: burn }));
      valid(`${s.name}/renotify`, InputKinds.renotify, s.name, openIncident({ ...at, incidentId: burn, observedValue: '0.031' }));
      valid(`${s.name}/calm`, InputKinds.calm, s.name, openIncident({ ...at, incidentId: `0.${s.name}-calm`, observedValue: '0.005' }));
      valid(`${s.name}/closed`, InputKinds.closed, s.name, closedIncident({ ...at, incidentId: `0.${s.name}-closed` }));
      valid(`${s.name}/unsupported`, InputKinds.unsupported, s.name, cpuUtilisationIncident({ ...at, incidentId: `0.${s.name}-cpu` }));
    } else {
      for (let b = 0; b < shape.burnsPerContended; b++)
        valid(`${s.name}/burn-${b}`, InputKinds.burn, s.name, openIncident({ ...at, incidentId: `0.${s.name}-burn-${b}` }));
    }
  });
  const invalidKinds = [InputKinds.invalidJson, InputKinds.notANotification, InputKinds.unmapped] as const;
  for (let k = 0; k < shape.invalidInputs; k++) {
    const kind = invalidKinds[k % invalidKinds.length]!;
    const bytes =
      kind === InputKinds.invalidJson
        ? Buffer.from(`{"incident": {"incident_id": "0.garbage-${k}"`)
        : kind === InputKinds.notANotification
          ? Buffer.from(JSON.stringify({ hello: `not a notification ${k}` }))
          : notificationBytes(openIncident({ service: `nobody-runs-${k}`, projectId, startedAt, incidentId: `0.nobody-${k}` }));
    const incidentId = kind === InputKinds.unmapped ? `0.nobody-${k}` : null;
    inputs.push({ id: `invalid-${k}/${kind}`, kind, service: null, incidentId, decisionId: null, bytes, copies: copies() });
  }
  return inputs;
}

/** Fisher–Yates with the run's generator. */
export function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
