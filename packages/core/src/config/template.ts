import { configSchema, DEFAULT_ROLES } from "./schema.js";

/** `50000` -> `50_000`, as a person would write it. */
function num(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+$)/gu, "_");
}

const str = (s: string): string => JSON.stringify(s);

/**
 * The `tmuxclaude.config.ts` that `tmux-claude init` writes: every top-level
 * key with its default value, so a person edits values rather than looking
 * up names. The values come from the schema, so the file cannot drift from it.
 */
export function configTemplate(): string {
  const d = configSchema.parse({});
  const roles = Object.entries(DEFAULT_ROLES)
    .map(
      ([name, role]) =>
        `    ${name}: { prefix: ${str(role.prefix)}, spawns: [${role.spawns.map(str).join(", ")}], topLevel: ${String(role.topLevel)} },`,
    )
    .join("\n");
  const levels = configSchema.shape.logLevel.unwrap().options.join(", ");

  return `// tmux-claude config. Every key shows its default; delete the ones you do not change.
// Reference: the "Config" section of the tmux-claude README.
import { defineConfig } from "@tmux-claude/core";
// Plugins are packages you import and call in \`plugins\` below. The CLI ships its first-party ones, e.g.
// import { git } from "@tmux-claude/plugin-git";   // a worktree and branch per instance, forecasts, merges
// import { dashboard } from "@tmux-claude/plugin-dashboard";   // a live web page of the hierarchy (tmux-claude monitor prints its URL)
// import { redis } from "@tmux-claude/plugin-redis";   // state and a message bus in Redis: several machines as one (README "Run on several machines")
// import { notify } from "@tmux-claude/plugin-notify";   // waiting, errors, budgets, conflicts, finished runs to a signed webhook, Slack, Discord

export default defineConfig({
  tmux: {
    // Name of tmux-claude's own tmux server (\`tmux -L ${d.tmux.socket}\`); your own sessions are never touched.
    socket: ${str(d.tmux.socket)},
    // tmux program: a name on PATH or an absolute path.
    binary: ${str(d.tmux.binary)},
    // tmux config file for that server, relative to this file; "none" starts it without one.
    // configFile: "none",
    // Size of every instance's pane in columns and rows (agents lay out their screen for it).
    width: ${num(d.tmux.width)},
    height: ${num(d.tmux.height)},
    // Scrollback lines kept per instance.
    historyLimit: ${num(d.tmux.historyLimit)},
  },

  // This kernel's node: kernels that share one store (several machines, or several sockets) need distinct ids.
  // node: { id: "build-box" },   // default: <host name>/<tmux socket>

  // Where instance records live, relative to this file (default: $XDG_STATE_HOME/tmux-claude/<socket>).
  // stateDir: ".tmux-claude",

  // Roles: \`prefix\` names instances (exec-1), \`spawns\` lists the roles they may create, \`topLevel\` lets a person spawn them.
  // Optional: \`agents: ["claude"]\` limits the agents a role may run; a child works inside its parent's workDir
  // unless its role sets \`workDirOutsideParent: true\`.
  roles: {
${roles}
  },

  limits: {
    // Most instances alive at once.
    maxInstances: ${num(d.limits.maxInstances)},
    // Longest chain of spawns: executive (1) -> manager (2) -> specialist (3).
    maxDepth: ${num(d.limits.maxDepth)},
    // Milliseconds a new agent may take until it is ready for input.
    spawnTimeout: ${num(d.limits.spawnTimeout)},
    // Milliseconds \`send\` waits for the agent to accept the input.
    sendTimeout: ${num(d.limits.sendTimeout)},
    // Milliseconds an agent gets to exit on SIGTERM before SIGKILL.
    terminateGrace: ${num(d.limits.terminateGrace)},
    // Circuit breaker per agent: \`failures\` failed spawns within \`windowMs\` make its spawns fail at once
    // (TC_BREAKER_OPEN) until \`cooldownMs\` passed or \`tmux-claude doctor --reset-breakers\`; false turns it off.
    // breaker: { failures: 3, windowMs: 600_000, cooldownMs: 60_000 },
  },

  // Watching instances (the supervisor, added by the CLI): a busy instance with no event from its agent and
  // no output for stallAfterMs is flagged stalled (never typed into); the parent of a blocked one is told once.
  // At most 2_147_483_647 (about 24.8 days); false turns stall detection off.
  supervision: {
    stallAfterMs: ${d.supervision.stallAfterMs === false ? "false" : num(d.supervision.stallAfterMs)},
  },

  // Warm pools: idle, ready instances of a role kept under every instance whose role may spawn it, so a spawn
  // that fits takes one instead of starting a process (they count toward maxInstances; \`serve\` fills them).
  // pool: { specialist: 2 },

  // Agent used when \`spawn\` names none.
  defaultAgent: ${str(d.defaultAgent)},

  // Agents by name. The "command" adapter runs any interactive CLI and reads its state from the screen
  // with regex sources: readyPattern (screen), idlePattern, busyPattern (last line), waitingPattern (screen).
  agents: {
    bash: {
      adapter: "command",
      command: "bash",
      args: ["--norc"],
      readyPattern: "[$#]\\\\s*$",
      idlePattern: "[$#]\\\\s*$",
    },
  },

  // Environment variables added to every instance.
  env: {},

  // Plugins in order; falsy entries are dropped, so a plugin can depend on the environment.
  plugins: [
    // git({ autoCommit: true }),
    // dashboard({ port: 3001 }),
  ],

  // Log level: ${levels}.
  logLevel: ${str(d.logLevel)},
});
`;
}
