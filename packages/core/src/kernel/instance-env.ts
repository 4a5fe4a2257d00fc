import path from "node:path";
import { ID_PATTERN, MAX_ID_LENGTH } from "../store/ids.js";

/**
 * The environment variables that tie an agent's process to tmux-claude, in
 * one place because several packages agree on them:
 *
 * - the kernel sets `instanceId`, `socket` and `stateDir` on every instance
 *   (and finds an instance's processes by them at terminate);
 * - an orchestration-endpoint plugin (the mcp plugin) adds `endpointUrl` and
 *   `endpointToken` in `beforeSpawn`, and adapters read them from
 *   `LaunchContext.env` to connect their agent to that endpoint.
 */
export const INSTANCE_ENV = {
  instanceId: "TMUX_CLAUDE_INSTANCE_ID",
  socket: "TMUX_CLAUDE_SOCKET",
  stateDir: "TMUX_CLAUDE_STATE_DIR",
  endpointUrl: "TMUX_CLAUDE_MCP_URL",
  endpointToken: "TMUX_CLAUDE_MCP_TOKEN",
} as const;

/**
 * The instance whose process tree this process runs in (an agent running the
 * CLI or `tmux-claude mcp` through its shell), by the variables the kernel set
 * on the agent, when they are those of the kernel of `stateDir`: for a person,
 * or an agent of another node (another state dir, where its id may name a
 * different instance), undefined. The variables are the process's own word:
 * they say which agent ran a command, they authorize nothing.
 */
export function callingInstance(env: Readonly<Record<string, string | undefined>>, stateDir: string): string | undefined {
  const id = env[INSTANCE_ENV.instanceId];
  if (id === undefined || id.length > MAX_ID_LENGTH || !ID_PATTERN.test(id)) return undefined;
  const dir = env[INSTANCE_ENV.stateDir];
  if (dir !== undefined && path.resolve(dir) !== path.resolve(stateDir)) return undefined;
  return id;
}
