/**
 * @tmux-claude/plugin-workflows: YAML orchestrations run on the kernel's
 * public API (see README.md): the DSL (dsl/), the run engine (engine/) and
 * the plugin that offers both (plugin.ts).
 */
export type * from "./types.js";
export { workflows, workflowsOptionsSchema, PLUGIN_NAME, type WorkflowsOptions, type WorkflowsPluginApi } from "./plugin.js";
export { parseWorkflow, planWorkflow, loadTemplate, listTemplates, formatPlan, WorkflowDslErrors, type WorkflowPlan, type PlannedStep, type TemplateInfo } from "./dsl/index.js";
export { runWorkflow, startRun, runId, JournalReader, JournalWriter, journalDir, journalPath, runInputs, RunErrors, type EngineDeps, type StartedRun, type RunStore, type EngineOptions } from "./engine/index.js";
