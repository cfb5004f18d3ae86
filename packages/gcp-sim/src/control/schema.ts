import { z } from 'zod';
import { ApiErrorCodes, type ApiErrorCode } from '../errors.js';
import { RESOURCE_ID } from '../cloud-deploy/resource-names.js';
import { RolloutFailureCauses, type RolloutFailureCause } from '../cloud-deploy/resources.js';
import { RollbackFaultKinds, type RollbackFault } from '../cloud-deploy/rollback-faults.js';

const PIPELINE_NAME = /^projects\/[^/]+\/locations\/[^/]+\/deliveryPipelines\/[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** A delivery pipeline: its id (in the sim's project and region) or its full name. */
export const PipelineRef = z
  .string()
  .refine(
    (v) => RESOURCE_ID.test(v) || PIPELINE_NAME.test(v),
    'expected a delivery pipeline id or projects/P/locations/L/deliveryPipelines/ID',
  );

const causes = Object.keys(RolloutFailureCauses) as [RolloutFailureCause, ...RolloutFailureCause[]];
const codes = Object.keys(ApiErrorCodes) as [ApiErrorCode, ...ApiErrorCode[]];

/**
 * `POST /faults`: fail the next `count` rollbacks on a pipeline's target.
 * `rollback: rollout` makes the rollback's rollout end FAILED with `reason` (and
 * `cause`); `rollback: refused` makes RollbackTarget answer `code` with `reason`.
 */
export const RollbackFaultRequest = z
  .object({
    pipeline: PipelineRef,
    target: z.string().regex(RESOURCE_ID, 'expected a Cloud Deploy target id'),
    rollback: z.enum(Object.keys(RollbackFaultKinds) as [keyof typeof RollbackFaultKinds, ...(keyof typeof RollbackFaultKinds)[]]),
    reason: z.string().trim().min(1, 'give the reason the rollback fails with').max(500),
    count: z.number().int().min(1).max(100).default(1),
    cause: z.enum(causes).optional(),
    code: z.enum(codes).optional(),
  })
  .strict()
  .superRefine((value, ctx) => {
    if (value.rollback === 'refused' && value.cause !== undefined)
      ctx.addIssue({ code: 'custom', path: ['cause'], message: "cause is the failed rollout's; a refused rollback has a code instead" });
    if (value.rollback === 'rollout' && value.code !== undefined)
      ctx.addIssue({ code: 'custom', path: ['code'], message: "code is the refusal's; a failed rollout has a cause instead" });
  });
export type RollbackFaultRequest = z.infer<typeof RollbackFaultRequest>;
/** What a caller writes (count may be left out). */
export type RollbackFaultRequestInput = z.input<typeof RollbackFaultRequest>;

/** A pending fault as the control endpoint shows it. */
export interface RollbackFaultView {
  id: string;
  pipeline: string;
  target: string;
  rollback: RollbackFault['kind'];
  reason: string;
  cause: RolloutFailureCause | null;
  code: ApiErrorCode | null;
  remaining: number;
  createdAt: string;
}

export const viewOf = (fault: RollbackFault): RollbackFaultView => ({
  id: fault.id,
  pipeline: fault.pipeline,
  target: fault.targetId,
  rollback: fault.kind,
  reason: fault.reason,
  cause: fault.cause,
  code: fault.code,
  remaining: fault.remaining,
  createdAt: fault.createdAt,
});

/** The one error shape of every answer that is not 2xx. */
export interface ControlErrorBody {
  error: { code: string; message: string };
}

/** The first issue of a failed parse, as `key: message`. */
export function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0]!;
  return `${issue.path.join('.') || '(body)'}: ${issue.message}`;
}
