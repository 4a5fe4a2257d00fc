/**
 * The shapes the parts of the workflows plugin agree on: the parsed workflow
 * (dsl/ makes it, engine/ runs it), the journal's events (engine/ writes them,
 * replay/ and progress/ read them) and the run's persisted state (engine/
 * keeps it in the store so `--resume` continues a run).
 */

/** A duration as written in YAML (`30s`, `10m`, `2h`, or a number of ms), parsed to ms. */
export type DurationMs = number;

/** How a task's completion is detected (see README "Completion"). */
export type CompletionMode =
  /** The instance calls the MCP tool `complete` (default). */
  | "tool"
  /** Its turn ends (turnEnded stop) with no queued messages; or `complete`, whichever comes first. */
  | "turn-end";

/** A step as parsed and validated; every `${{ ... }}` still unresolved (resolved when the step starts). */
export type Step = SpawnStep | SendStep | WaitStep | MergeStep | RunStep;

interface StepBase {
  /** `id:` in the file, else `step-<n>` (1-based position). */
  readonly id: string;
  /** Steps this one waits for: `needs:` in the file, else the step before it (none for the first). */
  readonly needs: readonly string[];
  /** Where the step is in the file, for messages. */
  readonly line: number;
  /**
   * Where the value of each of its keys starts in the file (`spawn`, `count`,
   * `parent`, ...), so a check against the config (planWorkflow) names line
   * and column as parsing does. Absent in workflows recorded before it existed.
   */
  readonly positions?: Readonly<Record<string, { readonly line: number; readonly column: number }>>;
  /** Fail the step when it takes longer (for spawn: until every task completed if it is waited on). */
  readonly timeoutMs?: DurationMs;
}

export interface SpawnStep extends StepBase {
  readonly kind: "spawn";
  readonly role: string;
  /** `agent:`; undefined = the role's or the config's default agent. */
  readonly agent?: string;
  /** One instance per task; `count` without `tasks` gives `count` instances with the same context. */
  readonly tasks: readonly string[];
  readonly count: number;
  readonly parallel: boolean;
  readonly context?: string;
  readonly prompt?: string;
  /**
   * The step whose instance is the parent (`parent:` in the file), or
   * `caller`: whoever runs the workflow (the top level from the CLI, the
   * calling instance through MCP). Undefined: the nearest earlier spawn step
   * it depends on of a role that may spawn this role (one instance; a step
   * with several instances cannot be a parent); with no earlier spawn step,
   * the caller; with earlier ones none of which may, an error (dsl/parents.ts).
   */
  readonly parent?: string;
  readonly node?: string;
  /** Options for plugins by plugin name (SpawnOptions.plugins), e.g. `{ git: { isolation: "worktree" } }`. */
  readonly plugins?: Readonly<Record<string, unknown>>;
  readonly completion?: CompletionMode;
}

export interface SendStep extends StepBase {
  readonly kind: "send";
  /** A spawn step's id (each of its instances gets the text) or an instance id. */
  readonly to: string;
  readonly text: string;
}

export interface WaitStep extends StepBase {
  readonly kind: "wait";
  /**
   * all-complete / any-complete: the tasks of every earlier spawn step (among its needs, directly or not);
   * a list: every task of those spawn steps; `{ any: [...] }`: any one task of those spawn steps.
   */
  readonly for: "all-complete" | "any-complete" | readonly string[] | { readonly any: readonly string[] };
}

export interface MergeStep extends StepBase {
  readonly kind: "merge";
  /**
   * `auto-resolve-conflicts`: every spawned instance with a branch merges into its parent's, children first, with AI conflict resolution;
   * `no-resolve`: the same, a conflict fails the step; `spec`: the spec form (`merge: { ... }`), its request in `spec`.
   */
  readonly strategy: "auto-resolve-conflicts" | "no-resolve" | "spec";
  /** Spawn steps whose instances merge (default: every earlier spawn step's instances that have a parent; with `spec.into`, every earlier spawn step's). */
  readonly from?: readonly string[];
  /** The spec form's request to the git plugin's merge. */
  readonly spec?: MergeSpec;
}

/**
 * A plugin-git merge spec (`merge: { from, into, strategy, resolve, verify,
 * priority, batch }`): what each instance's merge asks the git plugin (its
 * `merge(id, call)`); a key left out takes the git plugin's merge options.
 */
export interface MergeSpec {
  /** The branch every instance merges into (default: its parent's branch); instances without a parent step merge too then. */
  readonly into?: string;
  readonly strategy?: "merge" | "squash" | "rebase";
  /** "ai": the git plugin's resolver settles a conflict; "none": a conflict fails the step. */
  readonly resolve?: "none" | "ai";
  /** Run on the merged result (program and arguments, no shell) before the target branch moves; a failure refuses the merge. */
  readonly verify?: readonly [string, ...string[]];
  /** Served before lower priorities in the target's merge queue (default 0). */
  readonly priority?: number;
  /** Merged together with the target's other queued batch requests, verified once. */
  readonly batch?: boolean;
}

export interface RunStep extends StepBase {
  readonly kind: "run";
  /** Program and arguments; never a shell string. */
  readonly command: readonly [string, ...string[]];
  /** A spawn step's id (its single instance's work dir) or a path; default the run's work dir. */
  readonly cwd?: string;
  /**
   * Added to the command's environment: a text (`${{ }}` resolved, stored and
   * journaled like any step value), or `{ fromEnv: NAME }`: the runner's own
   * variable NAME, read when the step starts and never journaled or stored (a secret).
   */
  readonly env?: Readonly<Record<string, string | { readonly fromEnv: string }>>;
}

export interface Workflow {
  /** `workflow:` */
  readonly name: string;
  readonly description?: string;
  /** Declared variables with their defaults (`vars:`); `--var k=v` sets them; one without a default must be given. */
  readonly vars: Readonly<Record<string, string | undefined>>;
  readonly completion: CompletionMode;
  readonly timeoutMs?: DurationMs;
  readonly steps: readonly Step[];
  /** Where it came from: a file path, or `template:<name>`. */
  readonly source: string;
  /** Where each variable's value starts in the file (by name): a variable left without a value is reported there, as parse errors are. */
  readonly varPositions?: Readonly<Record<string, { readonly line: number; readonly column: number }>>;
}

/** A run's id: `<workflow name>-<yyyymmdd-hhmmss>-<4 hex>`. */
export type RunId = string;

export type RunState = "running" | "succeeded" | "failed" | "interrupted";
export type StepState = "pending" | "running" | "succeeded" | "failed" | "skipped";

/** One task: an instance a spawn step made, and how its task stands. */
export interface TaskState {
  readonly step: string;
  /** Position among the step's tasks. */
  readonly index: number;
  readonly task?: string;
  instanceId?: string;
  state: "spawning" | "working" | "completed" | "failed";
  /** From `complete` (or the last reply, for turn-end completion). */
  summary?: string;
  status?: "ok" | "failed";
  artifacts?: string[];
  reason?: string;
  completedAt?: string;
  /** How the completion was detected (the MCP tool `complete`, or the turn's end). */
  via?: "tool" | "turn-end";
  /**
   * Set by the runner just before it spawns the task's instance and handed to
   * that spawn only (its plugin options): the spawn that shows it binds the
   * task (once; it is removed then), so no other spawn can take the task over.
   */
  token?: string;
}

/**
 * What the store keeps of a run (plugin data, collection "runs", key = run
 * id), written as the run goes: `--resume` reads it, re-attaches to live
 * instances and never repeats a step that succeeded.
 */
export interface PersistedRun {
  readonly id: RunId;
  readonly workflow: Workflow;
  /** Variables as resolved at the start. */
  readonly vars: Readonly<Record<string, string>>;
  state: RunState;
  startedAt: string;
  endedAt?: string;
  /** The node and process running it (a second runner of the same run is refused while this one lives); `start`: the process's start time, so a reused pid does not count. */
  runner: { node: string; pid: number; host: string; start?: string };
  /** Who started it (RunRequest.caller): the parent of its top-level spawns, kept for `--resume`; `run_status` shows a run only to its caller's subtree. */
  readonly caller: string | null;
  /** Whether the run leaves its instances running when it fails (RunRequest.keep), kept for `--resume`. */
  readonly keep: boolean;
  /** The directory its instances work in (RunRequest.workDir), kept for `--resume`. */
  readonly workDir: string;
  steps: Record<string, { state: StepState; startedAt?: string; endedAt?: string; reason?: string; output?: StepOutput; process?: CommandProcess }>;
  tasks: TaskState[];
  /** Why it failed: the step and the reason. */
  failure?: { step: string; reason: string };
  /** Where the journal is (a JSONL file on the runner's node). */
  journal: string;
}

/**
 * A `run:` step's command while it runs: the leader of its process group (its
 * pid is the group id) and the leader's start time, so a resume after the
 * runner was killed ends a leftover group before running the step again, and
 * never a process that merely got the same pid.
 */
export interface CommandProcess {
  pid: number;
  /** As core's ProcessId.start (empty where it cannot be read). */
  start: string;
  host: string;
}

/** What later steps can use as `${{ steps.<id>.<field> }}`. */
export interface StepOutput {
  /** spawn: the instance id (one instance) / ids (several). */
  instance?: string;
  instances?: string[];
  /** The summary from `complete` (spawn steps, once waited) or the last reply. */
  reply?: string;
  /** run: exit code and the last 4000 characters of output. */
  exitCode?: number;
  stdout?: string;
  stderr?: string;
  /** merge: merged branches and their outcomes. */
  merged?: { instance: string; outcome: string }[];
}

/**
 * One line of a run's journal (`<stateDir>/runs/<run id>.jsonl`): everything
 * that happened, with times, so `replay` can show the timeline and `run
 * --from` can start the same run again from its inputs.
 */
export type JournalEvent = { readonly at: string; readonly run: RunId } & (
  | { type: "run-started"; workflow: Workflow; vars: Record<string, string>; resumed: boolean }
  | { type: "step-started"; step: string; kind: Step["kind"] }
  | { type: "step-finished"; step: string; state: "succeeded" | "failed" | "skipped"; reason?: string; output?: StepOutput; durationMs: number }
  | { type: "spawned"; step: string; index: number; instanceId: string; role: string; parentId: string | null; node: string }
  | { type: "reattached"; step: string; index: number; instanceId: string }
  | { type: "message"; step: string; instanceId: string; messageId: string; text: string; receipt: "delivered" | "queued" }
  /** `until`: status limited, when the usage limit resets (the task waits for it: limits.usage.resumeOnReset continues it). */
  | { type: "status"; instanceId: string; from: string; to: string; until?: string }
  | { type: "reply"; instanceId: string; text: string }
  | { type: "task-completed"; step: string; index: number; instanceId: string; status: "ok" | "failed"; summary?: string; artifacts?: string[]; via: "tool" | "turn-end" }
  | { type: "task-failed"; step: string; index: number; instanceId?: string; reason: string }
  | { type: "usage"; instanceId: string; inputTokens: number; outputTokens: number; costUsd?: number }
  | { type: "merge"; step: string; instanceId: string; into: string; outcome: string; detail?: string }
  | { type: "command"; step: string; command: readonly string[]; exitCode: number | null; signal?: string; durationMs: number }
  | { type: "run-finished"; state: "succeeded" | "failed" | "interrupted"; failure?: { step: string; reason: string }; durationMs: number }
);

/** How a caller (CLI, MCP tool, kernel API) starts or resumes a run. */
export interface RunRequest {
  /** A parsed workflow (parseWorkflow / loadTemplate), or to resume: the run id. */
  readonly workflow?: Workflow;
  readonly resume?: RunId;
  readonly vars?: Readonly<Record<string, string>>;
  /** The directory the run's instances work in (default the process's cwd). */
  readonly workDir?: string;
  /** Who asks: an instance id (an executive through MCP: the run's top spawns become its children) or null (root). */
  readonly caller?: string | null;
  /**
   * Leave the instances running when the run fails (default: terminate what the run spawned).
   * On resume: undefined keeps what the run was started with; true or false changes it from now on.
   */
  readonly keep?: boolean;
  readonly signal?: AbortSignal;
  /** Every journal event as it is written (the progress view). */
  readonly onEvent?: (event: JournalEvent) => void;
}

export interface RunResult {
  readonly id: RunId;
  readonly state: "succeeded" | "failed" | "interrupted";
  readonly failure?: { step: string; reason: string };
  readonly journal: string;
}

/** What the plugin offers other plugins and the CLI (`ctx.plugin("workflows")`). */
export interface WorkflowsApi {
  parse(source: string, origin: string): Workflow;
  templates(): { name: string; description: string }[];
  template(name: string): Workflow;
  /**
   * Check a workflow against the kernel's config (roles, spawn rules, maxInstances, plugins) without starting anything.
   * `warnings`: what may not do what its author means (a task whose agent cannot call `complete`, an any-complete over several spawn steps).
   */
  plan(workflow: Workflow, vars?: Readonly<Record<string, string>>): Promise<{ steps: { id: string; kind: Step["kind"]; needs: readonly string[]; summary: string }[]; warnings: readonly string[] }>;
  run(request: RunRequest): Promise<RunResult>;
  runs(): Promise<PersistedRun[]>;
  journal(run: RunId): Promise<JournalEvent[]>;
}
