/**
 * `${{ vars.goal }}` and `${{ steps.design.reply }}` in a workflow's texts:
 * found and checked when the file is read, replaced when the step starts
 * (the engine calls `interpolate` with the values of that moment).
 */

export type Reference = { readonly kind: "var"; readonly name: string } | { readonly kind: "step"; readonly step: string; readonly field: string };

/** A reference as written, with where it starts in the text. */
export interface FoundReference {
  readonly expression: string;
  readonly offset: number;
  /** Undefined when the expression is not one of the allowed forms. */
  readonly reference?: Reference;
}

const EXPRESSION = /\$\{\{([^}]*)\}\}/gu;
const VAR = /^vars\.([A-Za-z][A-Za-z0-9_-]*)$/u;
const STEP = /^steps\.([A-Za-z][A-Za-z0-9_-]*)\.([A-Za-z]+)$/u;

/** What each step kind gives later steps (types.ts StepOutput). */
export const STEP_FIELDS = {
  spawn: ["instance", "instances", "reply"],
  run: ["exitCode", "stdout", "stderr"],
  merge: ["merged"],
  send: [],
  wait: [],
} as const satisfies Record<string, readonly string[]>;

export const EXPRESSION_HELP = "${{ vars.<name> }} or ${{ steps.<id>.<field> }}";

/** Every `${{ ... }}` in `text`; an opening `${{` without its `}}` is reported as an expression without a reference. */
export function findReferences(text: string): FoundReference[] {
  const found: FoundReference[] = [];
  for (const match of text.matchAll(EXPRESSION)) {
    found.push({ expression: match[0], offset: match.index, reference: parseExpression(match[1]!.trim()) });
  }
  const unclosed = text.replace(EXPRESSION, (whole) => " ".repeat(whole.length)).indexOf("${{");
  if (unclosed !== -1) found.push({ expression: text.slice(unclosed, unclosed + 40), offset: unclosed });
  return found;
}

function parseExpression(inner: string): Reference | undefined {
  const variable = VAR.exec(inner);
  if (variable) return { kind: "var", name: variable[1]! };
  const step = STEP.exec(inner);
  if (step) return { kind: "step", step: step[1]!, field: step[2]! };
  return undefined;
}

/**
 * Replace every reference by what `lookup` gives for it; `lookup` returns
 * undefined to leave a reference as written (a dry run shows step outputs
 * that do not exist yet that way).
 */
export function interpolate(text: string, lookup: (reference: Reference) => string | undefined): string {
  return text.replace(EXPRESSION, (whole, inner: string) => {
    const reference = parseExpression(inner.trim());
    return reference === undefined ? whole : (lookup(reference) ?? whole);
  });
}
