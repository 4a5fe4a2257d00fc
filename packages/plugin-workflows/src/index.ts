/**
 * @tmux-claude/plugin-workflows: YAML orchestrations run on the kernel's
 * public API (see README.md). The shapes the parts agree on are in types.ts.
 */
export type * from "./types.js";
export {
  parseWorkflow,
  planWorkflow,
  formatPlan,
  loadTemplate,
  listTemplates,
  templatePath,
  resolveParents,
  resolveVars,
  parseVarArgument,
  interpolate,
  findReferences,
  parseDuration,
  formatDuration,
  WorkflowDslErrors,
  type PlannedStep,
  type WorkflowPlan,
  type TemplateInfo,
  type WorkflowIssue,
  type Caller,
} from "./dsl/index.js";
export { analyzeJournal, formatReplay, describeEvent, type ReplayReport, type StepReport, type TimelineEntry, type Tokens } from "./replay/index.js";
export { createProgress, progressMode, type Progress, type ProgressMode, type ProgressStream } from "./progress/index.js";
export { JournalReader, journalDir, journalPath } from "./engine/index.js";
