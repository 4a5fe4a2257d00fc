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
