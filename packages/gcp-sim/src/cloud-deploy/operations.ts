import { createHash } from 'node:crypto';
import type { GetOperationRequest, Operation, OperationMetadata, Release, Rollout, Timestamp } from './resources.js';
import { ApiErrorCodes, notFound } from '../errors.js';
import { parsePipelineName, parseReleaseName, timestampOf } from './resource-names.js';
import { packAny } from './protos.js';

interface OperationRecord {
  name: string;
  /** The resource the operation creates. */
  target: string;
  kind: 'release' | 'rollout';
  createTime: Timestamp;
  /** When a rollout operation is done (ms since the epoch); release operations are done when the render ends. */
  doneAt: number | null;
  done: Operation | null;
}

const ANY_METADATA = 'google.cloud.deploy.v1.OperationMetadata';

/**
 * The long-running operations (google.longrunning) that CreateRelease and
 * CreateRollout start and GetOperation reads. A release's operation is done
 * when its render ends (`releaseRendered`); a rollout's `operationMs` after the
 * call, answering the rollout as it is then.
 */
export class DeployOperations {
  private readonly records = new Map<string, OperationRecord>();

  constructor(
    private readonly clock: () => Date,
    /** The rollout of this name as it is now (the simulator's current state). */
    private readonly findRollout: (name: string) => Rollout | undefined,
  ) {}

  /** CreateRelease's operation; done at once for validate_only. */
  startRelease(parent: string, release: Release, validateOnly: boolean | undefined): Operation {
    const record = this.newOperation(parent, release.name, 'release');
    if (validateOnly) this.completeOperation(record, { typeName: 'google.cloud.deploy.v1.Release', value: release });
    return this.operationView(record, true);
  }

  /** CreateRollout's operation: done `operationMs` from now, or at once for validate_only. */
  startRollout(parent: string, rollout: Rollout, validateOnly: boolean | undefined, operationMs: number): Operation {
    const record = this.newOperation(parent, rollout.name, 'rollout');
    if (validateOnly) this.completeOperation(record, { typeName: 'google.cloud.deploy.v1.Rollout', value: rollout });
    else record.doneAt = this.clock().getTime() + operationMs;
    return this.operationView(record, true);
  }

  /** The render of `release` ended: the operations that create it are done. */
  releaseRendered(release: Release): void {
    for (const record of this.records.values()) {
      if (record.kind === 'release' && record.target === release.name && !record.done) {
        this.completeOperation(record, { typeName: 'google.cloud.deploy.v1.Release', value: release });
      }
    }
  }

  getOperation({ name }: GetOperationRequest): Operation {
    const record = this.records.get(name);
    if (!record) throw notFound(`Operation "${name}" not found`);
    if (!record.done && record.kind === 'rollout' && record.doneAt !== null && record.doneAt <= this.clock().getTime()) {
      const rollout = this.findRollout(record.target);
      this.completeOperation(
        record,
        rollout ? { typeName: 'google.cloud.deploy.v1.Rollout', value: rollout } : { error: `rollout ${record.target} is gone` },
      );
    }
    return this.operationView(record, false);
  }

  clear(): void {
    this.records.clear();
  }

  private newOperation(parent: string, target: string, kind: OperationRecord['kind']): OperationRecord {
    const ref = kind === 'release' ? parsePipelineName(parent, 'parent') : parseReleaseName(parent, 'parent');
    const now = this.clock();
    const id = `operation-${now.getTime()}-${createHash('sha256').update(`${target}\u0000${this.records.size}`).digest('hex').slice(0, 24)}`;
    const record: OperationRecord = {
      name: `projects/${ref.project}/locations/${ref.location}/operations/${id}`,
      target,
      kind,
      createTime: timestampOf(now),
      doneAt: null,
      done: null,
    };
    this.records.set(record.name, record);
    return record;
  }

  private completeOperation(record: OperationRecord, outcome: { typeName: string; value: object } | { error: string }): void {
    const base = this.operationView(record, false);
    const endTime = timestampOf(this.clock());
    record.done = {
      ...base,
      done: true,
      metadata: packAny(ANY_METADATA, this.metadataOf(record, endTime)),
      ...('error' in outcome
        ? { error: { code: ApiErrorCodes.INTERNAL, message: outcome.error, details: [] } }
        : { response: packAny(outcome.typeName, outcome.value) }),
    };
  }

  /**
   * The operation as the client sees it. The answer to the call that starts it
   * is never done, so the client always polls GetOperation (Cloud Deploy's
   * creates are asynchronous); what is done stays done.
   */
  private operationView(record: OperationRecord, starting: boolean): Operation {
    if (record.done && !starting) return record.done;
    return { name: record.name, done: false, metadata: packAny(ANY_METADATA, this.metadataOf(record)) };
  }

  private metadataOf(record: OperationRecord, endTime?: Timestamp): OperationMetadata {
    return {
      createTime: record.createTime,
      ...(endTime ? { endTime } : {}),
      target: record.target,
      verb: 'create',
      statusMessage: '',
      requestedCancellation: false,
      apiVersion: 'v1',
    };
  }
}
