// What the kernel checks while it starts, before anything runs: the plugins
// it is given (names, kernel version, dependencies) and the agents of the
// config (a known adapter, valid adapter options), so a mistake fails at
// start naming the plugin or the key, not at the first spawn.
import { z } from "zod";
import type { AgentAdapter } from "../agents/adapter.js";
import type { ResolvedConfig } from "../config/config.js";
import { agentSchema } from "../config/schema.js";
import { formatIssueList, formatZodIssues } from "../config/issues.js";
import { ErrorCodes, TmuxClaudeError } from "../errors.js";
import { roleAgentIssues } from "../instances/spawn-policy.js";
import { budgetRoleIssues } from "../instances/holds.js";
import { poolIssues } from "../instances/pools.js";
import type { Plugin } from "./plugin.js";
import { isValidRange, satisfies } from "./version-range.js";
import { KERNEL_VERSION } from "./version.js";

/** Keys of `agents.<name>` that the kernel reads; the rest belong to the agent's adapter. */
const KERNEL_AGENT_KEYS = new Set(Object.keys(agentSchema.shape));

/**
 * Add plugins to `registered` after checking each: its name is new, the
 * kernel version is one it says it works with, and what it depends on is
 * registered (by it or before). Throws the first problem, naming the plugin.
 */
export function registerPlugins(plugins: readonly Plugin[], registered: Map<string, Plugin>): void {
  for (const plugin of plugins) {
    if (registered.has(plugin.name)) {
      throw new TmuxClaudeError(
        ErrorCodes.PLUGIN_DUPLICATE,
        `Plugin "${plugin.name}" is registered twice. Remove one of them from plugins in your config.`,
        { plugin: plugin.name },
      );
    }
    registered.set(plugin.name, plugin);
  }
  for (const plugin of plugins) {
    if (plugin.kernel !== undefined && !(isValidRange(plugin.kernel) && satisfies(KERNEL_VERSION, plugin.kernel))) {
      const why = isValidRange(plugin.kernel) ? `works with kernel ${plugin.kernel}, and this kernel is ${KERNEL_VERSION}` : `gives kernel "${plugin.kernel}", which is not a version range (e.g. "^0.1.0")`;
      throw new TmuxClaudeError(
        ErrorCodes.PLUGIN_INVALID,
        `Plugin "${plugin.name}" ${why}. Install a version of the plugin made for @tmux-claude/core ${KERNEL_VERSION}, or remove it from plugins in your config.`,
        { plugin: plugin.name, range: plugin.kernel, kernel: KERNEL_VERSION },
      );
    }
    const missing = (plugin.dependencies ?? []).filter((dep) => !registered.has(dep));
    if (missing.length) {
      throw new TmuxClaudeError(
        ErrorCodes.PLUGIN_MISSING_DEPENDENCY,
        `Plugin "${plugin.name}" needs plugin(s) ${missing.map((m) => `"${m}"`).join(", ")}, which are not registered. Add them to plugins in your config.`,
        { plugin: plugin.name, missing },
      );
    }
  }
}

/**
 * Every agent names an adapter that exists (built in or from a plugin), and
 * its adapter-specific keys are valid: a typo fails at start, naming the key,
 * not at the first spawn.
 */
export function checkAgents(config: ResolvedConfig, adapters: ReadonlyMap<string, AgentAdapter>, configPath: string | null): void {
  const where = configPath ?? "your config";
  const roleIssues = [...roleAgentIssues(config), ...budgetRoleIssues(config), ...poolIssues(config)];
  if (roleIssues.length) {
    throw new TmuxClaudeError(ErrorCodes.CONFIG_INVALID, `Invalid config in ${where}:\n${formatIssueList(roleIssues)}\nSee the config reference in the README.`, {
      filepath: configPath,
      issues: roleIssues,
    });
  }
  for (const [name, agent] of Object.entries(config.agents)) {
    const adapter = adapters.get(agent.adapter);
    if (!adapter) {
      throw new TmuxClaudeError(
        ErrorCodes.CONFIG_INVALID,
        `Invalid config in ${where}:\n  - agents.${name}.adapter: "${agent.adapter}" is not an available adapter (available: ${[...adapters.keys()].join(", ")}). Add the plugin that provides it, or fix the name.`,
        { filepath: configPath, issues: [{ path: `agents.${name}.adapter`, message: "unknown adapter", value: JSON.stringify(agent.adapter) }] },
      );
    }
    if (!adapter.optionsSchema) continue;
    const own = Object.fromEntries(Object.entries(agent).filter(([key]) => !KERNEL_AGENT_KEYS.has(key)));
    const schema = adapter.optionsSchema instanceof z.ZodObject ? adapter.optionsSchema.strict() : adapter.optionsSchema;
    const result = schema.safeParse(own);
    if (result.success) continue;
    const issues = formatZodIssues(result.error, own, schema).map((issue) => ({ ...issue, path: `agents.${name}.${issue.path}` }));
    throw new TmuxClaudeError(
      ErrorCodes.CONFIG_INVALID,
      `Invalid options for agent "${name}" (adapter "${agent.adapter}") in ${where}:\n${formatIssueList(issues)}\nSee the adapter's options in the README.`,
      { filepath: configPath, issues },
    );
  }
}
