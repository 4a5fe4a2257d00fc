/** The workflow language: reading a file, checking it against a config, the templates. */
export { parseWorkflow } from "./parse.js";
export { reparseWorkflow } from "./document.js";
export { planWorkflow, waitTargets, waitsForAny, mergeSources, mergeHow, type PlannedStep, type WorkflowPlan } from "./plan.js";
export { formatPlan } from "./format.js";
export { planWarnings } from "./warnings.js";
export { resolveParents, ROOT_CALLER, CALLER_PARENT, type Caller, type Parents } from "./parents.js";
export { resolveVars, parseVarArgument, type VarsFrom } from "./vars.js";
export { loadTemplate, listTemplates, templatePath, type TemplateInfo } from "./templates.js";
export { WorkflowDslErrors, formatIssue, stepIssue, type WorkflowIssue } from "./errors.js";
export { parseDuration, formatDuration, DURATION_HELP } from "./duration.js";
export { findReferences, interpolate, STEP_FIELDS, type Reference } from "./refs.js";
export { findCycle, prerequisites, waves } from "./graph.js";
