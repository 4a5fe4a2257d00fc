/**
 * The keys a workflow file may hold, per step kind, as zod schemas: what the
 * validator checks and what "allowed keys" lists in a message.
 */
import { z } from "zod";
import { DURATION_HELP, parseDuration } from "./duration.js";

export const STEP_KINDS = ["spawn", "send", "wait", "merge", "run"] as const;
export type StepKind = (typeof STEP_KINDS)[number];

export const COMPLETION_MODES = ["tool", "turn-end"] as const;
export const WAIT_FOR = ["all-complete", "any-complete"] as const;
export const MERGE_STRATEGIES = ["auto-resolve-conflicts", "no-resolve"] as const;

/** Step ids, variable names: a word people can type in `${{ steps.<id>.reply }}`. */
const NAME = /^[A-Za-z][A-Za-z0-9_-]*$/u;
const name = (what: string) => z.string().regex(NAME, `${what}: a letter, then letters, digits, "-" or "_" (e.g. "design")`);

const duration = z
  .union([z.string(), z.number()])
  .refine((value) => parseDuration(value) !== undefined, `expected ${DURATION_HELP}`)
  .transform((value) => parseDuration(value)!);

const text = z.string().min(1, "a non-empty text");
/** One id or a list of them (`needs: design` or `needs: [design, api]`). */
const ids = z.union([name("a step id"), z.array(name("a step id"))]).transform((value) => (typeof value === "string" ? [value] : value));

const common = {
  id: name("a step id").optional(),
  needs: ids.optional(),
  timeout: duration.optional(),
};

export const spawnSchema = z.strictObject({
  spawn: name("a role"),
  ...common,
  agent: text.optional(),
  count: z.int().min(1).optional(),
  parallel: z.boolean().optional(),
  tasks: z.array(text).min(1).optional(),
  context: text.optional(),
  prompt: text.optional(),
  parent: name("a spawn step's id").optional(),
  node: text.optional(),
  plugins: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
  completion: z.enum(COMPLETION_MODES).optional(),
});

export const sendSchema = z.strictObject({ send: text, ...common, text });

export const waitSchema = z.strictObject({
  // `{ any: [ids] }`: one task of the named spawn steps (any-complete counts every earlier spawn step's, a manager's too).
  wait: z.union([z.enum(WAIT_FOR), z.array(name("a spawn step's id")).min(1), z.strictObject({ any: z.array(name("a spawn step's id")).min(1) })]),
  ...common,
});

export const mergeSchema = z.strictObject({
  merge: z.enum(MERGE_STRATEGIES),
  ...common,
  from: ids.optional(),
});

/** Program and arguments, never a shell string (a string is refused with its own message in parse.ts). */
const argv = z.array(z.union([z.string(), z.number(), z.boolean()]).transform(String)).min(1);

/**
 * The spec form, `merge: { ... }`: a plugin-git merge request (its
 * mergeCallSchema: into, strategy, resolve, verify, priority, batch; test/merge-spec
 * checks every value here is one it takes) plus `from`. dryRun is left out: a step that merges nothing is no step.
 */
export const mergeSpecSchema = z.strictObject({
  from: ids.optional(),
  into: z.string().min(1, "a branch name").optional(),
  strategy: z.enum(["merge", "squash", "rebase"]).optional(),
  resolve: z.enum(["ai", "none"]).optional(),
  verify: argv.optional(),
  priority: z.int().optional(),
  batch: z.boolean().optional(),
});

export const mergeSpecStepSchema = z.strictObject({
  merge: mergeSpecSchema,
  ...common,
  from: ids.optional(),
});

export const runSchema = z.strictObject({
  // A string here is refused with its own message in parse.ts: it would need a shell to split it.
  // Numbers and booleans are words too (`run: [true]` runs the program true).
  run: argv,
  ...common,
  cwd: text.optional(),
  env: z
    .record(
      z.string().regex(/^[^=\s]+$/u, "a variable name without = or spaces"),
      z.union([
        z.union([z.string(), z.number(), z.boolean()]).transform(String),
        // A secret: the runner's own variable, read at step start and never journaled or stored.
        z.strictObject({ fromEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/u, "an environment variable's name (letters, digits, _)") }),
      ]),
    )
    .optional(),
});

export const STEP_SCHEMAS = { spawn: spawnSchema, send: sendSchema, wait: waitSchema, merge: mergeSchema, run: runSchema } as const;

/** The keys any step may have besides its kind key (for the "did you mean" of a step without a kind). */
export const anyStepSchema = z.strictObject({
  spawn: z.unknown(),
  send: z.unknown(),
  wait: z.unknown(),
  merge: z.unknown(),
  run: z.unknown(),
});

/** Added to "expected record" for `vars:` (a list of names, `vars: [goal]`, is the usual slip). */
export const VARS_HELP = 'write a map of variable names to their defaults, e.g. "vars: { goal: ~, lang: en }" (~: no default, so --var goal=... must be given)';

const varValue = z.union([z.string(), z.number(), z.boolean(), z.null()]);

export const workflowSchema = z.strictObject({
  workflow: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/u, 'a name of letters, digits, ".", "_" or "-" (it names the runs, e.g. "feature-development")'),
  description: z.string().optional(),
  /** A name and its default; null (or nothing after the colon) means it must be given with --var. */
  vars: z.record(name("a variable name"), varValue).optional(),
  completion: z.enum(COMPLETION_MODES).optional(),
  timeout: duration.optional(),
  steps: z.array(z.unknown()).min(1),
});
