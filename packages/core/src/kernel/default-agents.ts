import type { ResolvedConfig } from "../config/config.js";
import { agentSchema, roleSchema, type AgentConfig, type RoleConfig } from "../config/schema.js";
import { ErrorCodes, TmuxClaudeError } from "../errors.js";

/** What plugins may add to a config: agents (`Plugin.defaultAgents`) and roles (`Plugin.defaultRoles`). */
type Contribution = "agent" | "role";

/**
 * The entries plugins contribute under one config key, each parsed with the
 * key's schema (so every kernel gets its own copy with defaults filled in),
 * leaving out names the user defined. Two plugins may not contribute one name.
 */
function contributions<T>(config: ResolvedConfig, kind: Contribution, own: Readonly<Record<string, unknown>>, parse: (value: unknown) => T): Record<string, T> {
  const contributed: Record<string, T> = {};
  const contributor = new Map<string, string>();
  const key = kind === "agent" ? "agents" : "roles";
  for (const plugin of config.plugins) {
    const offered = kind === "agent" ? plugin.defaultAgents : plugin.defaultRoles;
    for (const [name, value] of Object.entries(offered ?? {})) {
      if (own[name]) continue;
      const earlier = contributor.get(name);
      if (earlier) {
        throw new TmuxClaudeError(
          ErrorCodes.PLUGIN_INVALID,
          `Plugins "${earlier}" and "${plugin.name}" both contribute the ${kind} "${name}". Define ${key}.${name} in your config to choose, or remove one of the plugins.`,
          { plugin: plugin.name, [kind]: name },
        );
      }
      contributor.set(name, plugin.name);
      contributed[name] = parse(value);
    }
  }
  return contributed;
}

/**
 * The config with the agents its plugins contribute (`Plugin.defaultAgents`,
 * e.g. `claude` from @tmux-claude/agent-claude) added under the user's own; an
 * agent the user defines wins. Pure, so doctor sees the same agents a kernel would.
 */
export function withDefaultAgents(config: ResolvedConfig): ResolvedConfig {
  const contributed = contributions<AgentConfig>(config, "agent", config.agents, (agent) => agentSchema.parse(agent));
  if (Object.keys(contributed).length === 0) return config;
  return { ...config, agents: { ...contributed, ...config.agents } };
}

/**
 * The config with the roles its plugins contribute (`Plugin.defaultRoles`,
 * e.g. `resolver` from @tmux-claude/plugin-git) added beside the configured
 * ones (DEFAULT_ROLES or the user's); a role the user defines wins.
 */
export function withDefaultRoles(config: ResolvedConfig): ResolvedConfig {
  const contributed = contributions<RoleConfig>(config, "role", config.roles, (role) => roleSchema.parse(role));
  if (Object.keys(contributed).length === 0) return config;
  return { ...config, roles: { ...contributed, ...config.roles } };
}
