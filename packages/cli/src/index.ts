export {
  startLocalStack,
  localPorts,
  LOCAL_PORTS,
  LOCAL_GCP_SIM_CONTROL_PORT,
  LOCAL_WEBHOOK_TOKEN,
  LOCAL_MANAGEMENT_TOKEN,
  DEFAULT_PROJECT,
  REPO_ROOT,
  type LocalStack,
  type LocalStackOptions,
} from './local-stack.js';
export {
  replayRecorded,
  replayWhatIf,
  sameJson,
  formatTimeline,
  formatWhatIf,
  type ReplayResult,
  type WhatIfResult,
} from './replay/engine.js';
export { readExport, writeExport, type ExportLine } from './replay/format.js';
export { formatLogLine, shortResourceNames } from './human-log.js';
