/** The workflows shipped in the package's templates/ folder (`run --template <name>`, `tmux-claude templates`). */
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { closest, TmuxClaudeError } from "@tmux-claude/core";
import type { Workflow } from "../types.js";
import { WorkflowDslErrors } from "./errors.js";
import { parseWorkflow } from "./parse.js";

export interface TemplateInfo {
  readonly name: string;
  readonly description: string;
  /** Declared variables and whether each must be given (`--var name=...`). */
  readonly vars: readonly { name: string; required: boolean }[];
  readonly path: string;
}

/** src/dsl and dist/dsl are both two levels below the package root, where templates/ is. */
const TEMPLATES_DIR = fileURLToPath(new URL("../../templates/", import.meta.url));

export function templatePath(name: string): string {
  return `${TEMPLATES_DIR}${name}.yaml`;
}

function templateNames(): string[] {
  return readdirSync(TEMPLATES_DIR)
    .filter((file) => file.endsWith(".yaml"))
    .map((file) => file.slice(0, -".yaml".length))
    .sort();
}

/** A shipped template, parsed (its origin is `template:<name>`). */
export function loadTemplate(name: string): Workflow {
  const names = templateNames();
  if (!names.includes(name)) {
    const guess = closest(name, names);
    throw new TmuxClaudeError(
      WorkflowDslErrors.TEMPLATE_NOT_FOUND,
      `No template "${name}"${guess ? ` (did you mean "${guess}"?)` : ""}. Templates: ${names.join(", ")}; tmux-claude templates describes them.`,
      { template: name, templates: names },
    );
  }
  return parseWorkflow(readFileSync(templatePath(name), "utf8"), `template:${name}`);
}

export function listTemplates(): TemplateInfo[] {
  return templateNames().map((name) => {
    const workflow = loadTemplate(name);
    return {
      name,
      description: workflow.description ?? "",
      vars: Object.entries(workflow.vars).map(([variable, value]) => ({ name: variable, required: value === undefined })),
      path: templatePath(name),
    };
  });
}
