/**
 * @tmux-claude/plugin-workflows: YAML orchestrations run on the kernel's
 * public API (see README.md): the DSL (dsl/), the run engine (engine/), the
 * plugin that offers both (plugin.ts), reading a run back (replay/) and
 * showing it as it goes (progress/). The shapes the parts agree on are in types.ts.
 */
export type * from "./types.js";
export { workflows, workflowsOptionsSchema, PLUGIN_NAME, type WorkflowsOptions, type WorkflowsPluginApi } from "./plugin.js";
export { withWorkflows } from "./config.js";
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
export { runWorkflow, startRun, runId, runnerAlive, JournalReader, JournalWriter, journalDir, journalPath, runInputs, RunErrors, type EngineDeps, type StartedRun, type RunStore, type EngineOptions } from "./engine/index.js";
export { analyzeJournal, formatReplay, describeEvent, JournalFold, type ReplayReport, type StepReport, type StepFold, type TimelineEntry, type Tokens } from "./replay/index.js";
export { createProgress, progressMode, type Progress, type ProgressMode, type ProgressStream } from "./progress/index.js";
