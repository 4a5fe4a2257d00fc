import { z } from "zod";
import { NODE_ID } from "../kernel/node.js";
import { usageLimitsSchema } from "./usage-limits.js";

const NAME = /^[a-z][a-z0-9]*$/u;
/** The longest delay setTimeout takes (2^31-1 ms); a longer one fires after 1 ms. */
export const MAX_TIMER_MS = 2_147_483_647;

/** An environment variable's name: what `env -i NAME=value` can pass. */
const envName = z.string().regex(/^[^=\0]+$/u, "a variable name (not empty, no \"=\")");

export const roleSchema = z.strictObject({
  /** Id prefix for instances of this role: `exec` gives `exec-1`. */
  prefix: z.string().regex(NAME, "a lowercase word of letters and digits, starting with a letter"),
  /** Roles an instance of this role may spawn as its children. */
  spawns: z.array(z.string()).default([]),
  /** May a person (CLI, stdio MCP client) spawn this role at the top level? */
  topLevel: z.boolean().default(true),
  /** Instructions given to agents of this role (adapters that support it append them to the system prompt). */
  instructions: z.string().optional(),
  /** Agents an instance of this role may run (default: any); a spawn naming none gets defaultAgent if listed, else the first. */
  agents: z.array(z.string().min(1, "an agent name from agents")).min(1, "at least one agent (leave the key out to allow any)").optional(),
  /** May an instance of this role work outside its parent's workDir? Default: no (inside, resolved with realpath). */
  workDirOutsideParent: z.boolean().default(false),
});

export const agentSchema = z.looseObject({
  /** Which adapter drives this agent: `command` (any CLI) or one registered by a plugin. */
  adapter: z.string().min(1, 'an adapter name: "command" or one a plugin registers, e.g. "claude"').default("command"),
  /** Program to run: a name found on PATH or an absolute path. */
  command: z.string().min(1, "the program to run: a name on PATH or an absolute path"),
  args: z.array(z.string()).default([]),
  /** Extra environment for this agent. */
  env: z.record(envName, z.string()).default({}),
  /**
   * The account whose usage limit this agent's instances share (see
   * `limits.usage`); default: the agent's name. Agents logged in to the same
   * account name the same one here.
   */
  account: z.string().min(1, "an account name (leave the key out to use the agent's name)").optional(),
});

/** What happens to a subtree whose budget is crossed: its delivery held, its instances terminated, or a notice only. */
export const BUDGET_ACTIONS = ["pause", "stop", "notify"] as const;

/** A budget: tokens (all kinds summed) and/or US dollars, for one instance's subtree. */
export const budgetSchema = z
  .strictObject({
    usd: z.number().nonnegative("a number of US dollars, 0 or more").optional(),
    tokens: z.int().nonnegative("a whole number of tokens, 0 or more").optional(),
    /** Overrides limits.budget.action for this budget. */
    action: z.enum(BUDGET_ACTIONS).optional(),
  })
  .refine((b) => b.usd !== undefined || b.tokens !== undefined, "give usd and/or tokens");

export const DEFAULT_ROLES = {
  executive: { prefix: "exec", spawns: ["manager"], topLevel: true, workDirOutsideParent: false },
  manager: { prefix: "mgr", spawns: ["specialist"], topLevel: true, workDirOutsideParent: false },
  specialist: { prefix: "spec", spawns: [], topLevel: true, workDirOutsideParent: false },
} satisfies Record<string, z.input<typeof roleSchema>>;

/**
 * A plugin as the config holds it: an object with a name and an apply
 * function (kernel/plugin.ts's Plugin, whose rest the kernel checks when it
 * applies it). Structural here so that the config sits below the plugin API,
 * whose context carries the settings.
 */
export interface PluginObject {
  readonly name: string;
  apply(ctx: never): unknown;
}

const pluginSchema = z.custom<PluginObject>(
  (value) =>
    typeof value === "object" &&
    value !== null &&
    typeof (value as { name?: unknown }).name === "string" &&
    typeof (value as { apply?: unknown }).apply === "function",
  { message: "expected a plugin object { name, apply(ctx) } returned by a plugin factory" },
);

/** Every key of the config but `plugins`: what plugins and adapters see (`ctx.config`). */
const settingsShape = {
  tmux: z
    .strictObject({
      /** Private tmux socket name (`tmux -L <socket>`); never the user's default server. */
      socket: z.string().regex(/^[A-Za-z0-9._-]+$/u, "letters, digits, '.', '_' or '-'").default("tmux-claude"),
      /** tmux binary. */
      binary: z.string().min(1, 'the tmux program: "tmux" (on PATH) or an absolute path').default("tmux"),
      /** tmux config file used when this socket's server starts; "none" starts it without one. */
      configFile: z.string().min(1, 'a tmux config file, or "none" for no config file (leave the key out for tmux\'s own ~/.tmux.conf)').optional(),
      /** Fixed pane size of every instance. */
      width: z.int().min(20).max(1000).default(200),
      height: z.int().min(5).max(500).default(50),
      /** Scrollback lines kept per instance. */
      historyLimit: z.int().min(100).max(10_000_000).default(50_000),
    })
    .prefault({}),
  /** This kernel's node: the machine and tmux server its instances live on. */
  node: z
    .strictObject({
      /** Default: `<host name>/<tmux socket>`, stable across restarts. Kernels sharing a store need distinct ids. */
      id: z.string().regex(NODE_ID, "a node id: a letter or digit, then letters, digits, '.', '_', ':', '/' or '-' (at most 128)").optional(),
      /**
       * Where a spawn without a node goes: `local` (this node) or
       * `least-loaded` (the live node with the fewest instances that have not
       * exited, this node among equals; live nodes come from the `nodes` hook).
       */
      placement: z.enum(["local", "least-loaded"]).default("local"),
    })
    .prefault({}),
  /** Directory of the embedded state store (default: $XDG_STATE_HOME/tmux-claude/<socket>). */
  stateDir: z.string().min(1, "a directory (leave the key out for the default, $XDG_STATE_HOME/tmux-claude/<socket>)").optional(),
  roles: z.record(z.string().regex(NAME, "a lowercase word"), roleSchema).default(DEFAULT_ROLES),
  limits: z
    .strictObject({
      maxInstances: z.int().min(1).default(20),
      maxDepth: z.int().min(1).default(3),
      /** Milliseconds a spawn may take until the agent is ready. */
      spawnTimeout: z.int().min(100).max(MAX_TIMER_MS).default(60_000),
      /** Milliseconds `send` waits for the agent to accept the input. */
      sendTimeout: z.int().min(100).max(MAX_TIMER_MS).default(15_000),
      /** Milliseconds `terminate` lets the agent exit on SIGTERM before SIGKILL. */
      terminateGrace: z.int().min(0).max(MAX_TIMER_MS).default(3_000),
      /**
       * Budgets of subtrees (enforced by the cost plugin's budget part): an
       * instance's budget is its spawn's `budget`, else `roles[<its role>]`,
       * else `default`; it bounds what the instance and its descendants spend.
       */
      budget: z
        .strictObject({
          default: budgetSchema.optional(),
          roles: z.record(z.string().regex(NAME, "a role name"), budgetSchema).default({}),
          action: z.enum(BUDGET_ACTIONS).default("pause"),
        })
        .prefault({}),
      /** Turns one instance may take; at the cap its delivery is held (kernel.hold) until it is released. */
      maxTurns: z.int().min(1, "at least 1 turn (leave the key out for no cap)").optional(),
      /** At most `max` spawns per `perMs` milliseconds, per parent (a top-level spawn's parent is the root) or in total. */
      spawnRate: z
        .strictObject({
          max: z.int().min(1, "at least 1 spawn"),
          perMs: z.int().min(1_000, "at least 1000 ms").default(60_000),
          per: z.enum(["parent", "total"]).default("parent"),
        })
        .optional(),
      /** What happens at an account's usage limit (status `limited`). */
      usage: usageLimitsSchema,
      /**
       * The circuit breaker per agent: `failures` failed spawns (the agent was
       * launched and did not become ready) within `windowMs` open it; spawns of
       * that agent then fail at once (TC_BREAKER_OPEN) until `cooldownMs`
       * passed (then one trial spawn) or `doctor --reset-breakers`. `false`: off.
       */
      breaker: z
        .union([
          z.literal(false),
          z.strictObject({
            failures: z.int().min(1, "at least 1 failed spawn").default(3),
            windowMs: z.int().min(1_000, "at least 1000 ms").default(600_000),
            cooldownMs: z.int().min(1, "a positive number of milliseconds").default(60_000),
          }),
        ])
        .prefault({}),
    })
    .prefault({}),
  /** Watching instances for what needs a person (the supervisor plugin, added by the CLI). */
  supervision: z
    .strictObject({
      /**
       * Milliseconds a busy instance may go without an adapter event or output
       * before it is flagged stalled; `false`: stall detection off. At most
       * 2147483647 (about 24.8 days): Node's timers take no longer delay and
       * fire at once for one that is.
       */
      stallAfterMs: z
        .union([
          z.literal(false),
          z.int().positive("a positive number of milliseconds, e.g. 300000 (5 minutes)").max(MAX_TIMER_MS, "at most 2147483647 ms (about 24.8 days); false turns stall detection off"),
        ])
        .default(300_000),
    })
    .prefault({}),
  /**
   * Warm pools: `pool: { specialist: 2 }` keeps 2 idle, ready instances of the
   * role under every running instance whose role may spawn it (per parent);
   * a spawn that fits takes one instead of starting a process. The object
   * form names the agent (default: the one a spawn of the role gets), and
   * `per: "node"` keeps them at the top level of this node, in `workDir`.
   * Only `serve` fills them.
   */
  pool: z
    .record(
      z.string().regex(NAME, "a role name"),
      z.union([
        z.int().min(0, "a whole number of idle instances, 0 or more"),
        z.strictObject({
          count: z.int().min(0, "a whole number of idle instances, 0 or more"),
          agent: z.string().min(1, "an agent name (leave the key out for the role's default agent)").optional(),
          /** "parent" (default): under every instance that may spawn the role; "node": top-level instances of this node, in `workDir`. */
          per: z.enum(["parent", "node"]).default("parent"),
          /** With per "node": the directory its instances work in (relative to the config file). */
          workDir: z.string().min(1, "a directory (relative to the config file)").optional(),
        }),
      ]),
    )
    .default({}),
  /** Agent used when spawn names none. */
  defaultAgent: z.string().min(1, 'the name of an agent under agents, or one a plugin adds (the CLI adds "claude")').default("claude"),
  agents: z.record(z.string().regex(/^[A-Za-z0-9_-]+$/u, "letters, digits, '_' or '-'"), agentSchema).default({}),
  /** Environment added to every instance. */
  env: z.record(envName, z.string()).default({}),
  logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
};

export const settingsSchema = z.strictObject(settingsShape);

/** The config file's schema: the settings and the plugins (see config.ts for its types with the plugin API's). */
export const configSchema = z.strictObject({
  ...settingsShape,
  /** Plugins in order; falsy entries are dropped so `process.env.X && plugin()` works. */
  plugins: z
    .array(z.union([pluginSchema, z.literal(false), z.literal(0), z.literal(""), z.null(), z.undefined()]))
    .default([])
    .transform((list) => list.filter((p): p is PluginObject => Boolean(p))),
});

/** The settings as written (every key of a config but `plugins`). */
export type UserSettings = z.input<typeof settingsSchema>;
/** The validated settings with every default filled in: the config without its plugins. */
export type Settings = z.output<typeof settingsSchema>;
export type RoleConfig = z.output<typeof roleSchema>;
/** One entry of `pool` as written: a count, or `{ count, agent? }`. */
export type PoolConfig = Settings["pool"][string];
export type BudgetAction = (typeof BUDGET_ACTIONS)[number];
export type AgentConfig = z.output<typeof agentSchema>;
/** An agent as written in a config (or contributed by a plugin): `args`, `env` and `adapter` may be left out. */
export type UserAgentConfig = z.input<typeof agentSchema>;
/** A role as written in a config (or contributed by a plugin): `spawns`, `topLevel` and `workDirOutsideParent` may be left out. */
export type UserRoleConfig = z.input<typeof roleSchema>;
