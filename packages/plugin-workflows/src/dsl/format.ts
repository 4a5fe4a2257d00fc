/** A dry run as people read it: the steps by wave, what each does, with which parent. */
import type { WorkflowPlan } from "./plan.js";

/** `1 step`, `2 steps`. */
export function counted(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

export function formatPlan(plan: WorkflowPlan): string {
  const lines = [`${plan.workflow} (${plan.source}): ${counted(plan.steps.length, "step")}, ${counted(plan.instances, "instance")}. Dry run: nothing was started.`];
  const vars = Object.entries(plan.vars);
  if (vars.length > 0) lines.push(`vars: ${vars.map(([name, value]) => `${name}=${JSON.stringify(value)}`).join(", ")}`);
  const lastWave = Math.max(...plan.steps.map((step) => step.wave));
  for (let wave = 1; wave <= lastWave; wave++) {
    const steps = plan.steps.filter((step) => step.wave === wave);
    lines.push("", steps.length > 1 ? `${wave}. at the same time:` : `${wave}.`);
    for (const step of steps) {
      const needs = step.needs.length > 0 ? ` (after ${step.needs.join(", ")})` : "";
      lines.push(`   ${step.id} [${step.kind}, line ${step.line}]${needs}: ${step.summary}`);
      for (const detail of step.details) lines.push(`     ${detail}`);
    }
  }
  if (plan.warnings.length > 0) lines.push("", ...plan.warnings.map((warning) => `warning: ${warning}`));
  return lines.join("\n");
}
