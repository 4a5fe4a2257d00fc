import type { ResolvedConfig } from "../config/config.js";
import { agentSchema, type AgentConfig } from "../config/schema.js";
import { ErrorCodes, TmuxClaudeError } from "../errors.js";

/**
 * The config with the agents its plugins contribute (`Plugin.defaultAgents`,
 * e.g. `claude` from @tmux-claude/agent-claude) added under the user's own; an
 * agent the user defines wins. Pure, so doctor sees the same agents a kernel would.
 */
export function withDefaultAgents(config: ResolvedConfig): ResolvedConfig {
  const contributed: Record<string, AgentConfig> = {};
  const contributor = new Map<string, string>();
  for (const plugin of config.plugins) {
    for (const [name, agent] of Object.entries(plugin.defaultAgents ?? {})) {
      if (config.agents[name]) continue;
      const earlier = contributor.get(name);
      if (earlier) {
        throw new TmuxClaudeError(
          ErrorCodes.PLUGIN_INVALID,
          `Plugins "${earlier}" and "${plugin.name}" both contribute the agent "${name}". Define agents.${name} in your config to choose, or remove one of the plugins.`,
          { plugin: plugin.name, agent: name },
        );
      }
      contributor.set(name, plugin.name);
      // Parsed, so every kernel gets its own copy with the defaults filled in.
      contributed[name] = agentSchema.parse(agent);
    }
  }
  if (contributor.size === 0) return config;
  return { ...config, agents: { ...contributed, ...config.agents } };
}
