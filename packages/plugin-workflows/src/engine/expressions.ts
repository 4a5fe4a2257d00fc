// `${{ vars.x }}` and `${{ steps.<id>.<field> }}` resolved when a step starts
// (the DSL found and checked them when the file was read: refs.ts). Step
// outputs are read then, so a step sees what the steps before it produced.
import { TmuxClaudeError } from "@tmux-claude/core";
import { findReferences, interpolate, type Reference } from "../dsl/index.js";
import type { StepOutput } from "../types.js";
import { RunErrors } from "./errors.js";

export interface ExpressionScope {
  readonly vars: Readonly<Record<string, string>>;
  /** A step's field now; undefined when the step has not produced it (yet). */
  stepField(step: string, field: keyof StepOutput): Promise<string | undefined>;
}

/** The text with every reference replaced; one without a value yet is an error naming the step, the expression and the fix. */
export async function resolveText(text: string, scope: ExpressionScope, where: string): Promise<string> {
  const values = new Map<string, string>();
  for (const { expression, reference } of findReferences(text)) {
    if (!reference) continue;
    const value = reference.kind === "var" ? scope.vars[reference.name] : await scope.stepField(reference.step, reference.field as keyof StepOutput);
    if (value === undefined) throw missing(where, expression, reference);
    values.set(key(reference), value);
  }
  return interpolate(text, (reference) => values.get(key(reference)));
}

const key = (reference: Reference): string => (reference.kind === "var" ? `vars.${reference.name}` : `steps.${reference.step}.${reference.field}`);

function missing(where: string, expression: string, reference: Reference): TmuxClaudeError {
  const message =
    reference.kind === "var"
      ? `${where}: ${expression} names variable "${reference.name}", which has no value; declare it under vars: with a default, or pass --var ${reference.name}=...`
      : `${where}: ${expression} has no value yet: step "${reference.step}" has not produced its ${reference.field}; make this step need "${reference.step}" (or a wait for its tasks)`;
  return new TmuxClaudeError(RunErrors.INVALID, message, { expression });
}

/** A step output's field as text: ids joined by spaces, merged outcomes as `<instance>: <outcome>` lines, numbers as digits. */
export function fieldText(output: StepOutput | undefined, field: keyof StepOutput): string | undefined {
  const value = output?.[field];
  if (value === undefined) return undefined;
  if (field === "instances") return (value as string[]).join(" ");
  if (field === "merged") return (value as NonNullable<StepOutput["merged"]>).map((m) => `${m.instance}: ${m.outcome}`).join("\n");
  return String(value);
}
