// Looking up what an operation names (an instance, an agent, its adapter) and
// where an instance's files go, failing with one clear error that says what
// exists. No state of their own: every part of the manager uses them.
import { mkdir } from "node:fs/promises";
import path from "node:path";
import type { AgentAdapter } from "../agents/adapter.js";
import type { AgentConfig } from "../config/schema.js";
import { ErrorCodes, TmuxClaudeError } from "../errors.js";
import type { InstanceRecord } from "../store/types.js";
import type { StateStore } from "../store/store-contract.js";
import type { ManagerDeps } from "./deps.js";

type AgentDeps = Pick<ManagerDeps, "config" | "configPath" | "adapters">;

export async function requireRecord(store: StateStore, id: string): Promise<InstanceRecord> {
  if (typeof id !== "string" || id === "") {
    throw new TmuxClaudeError(ErrorCodes.INVALID_ARGUMENT, "An instance id is required (see tmux-claude list).");
  }
  const record = await store.get(id);
  if (!record) {
    throw new TmuxClaudeError(ErrorCodes.INSTANCE_NOT_FOUND, `No instance "${id}". See tmux-claude list for the instances that exist.`, { id });
  }
  return record;
}

export function agentConfig(deps: AgentDeps, name: string): AgentConfig {
  const agent = deps.config.agents[name];
  if (!agent) {
    const known = Object.keys(deps.config.agents);
    throw new TmuxClaudeError(
      ErrorCodes.UNKNOWN_AGENT,
      `Unknown agent "${name}". Configured agents: ${known.join(", ") || "(none)"}. Define it under agents in ${deps.configPath ?? "tmuxclaude.config.ts (tmux-claude init writes one)"}.`,
      { agent: name },
    );
  }
  return agent;
}

export function adapterFor(deps: AgentDeps, agentName: string): AgentAdapter {
  const agent = agentConfig(deps, agentName);
  const adapter = deps.adapters.get(agent.adapter);
  if (!adapter) {
    throw new TmuxClaudeError(
      ErrorCodes.UNKNOWN_AGENT,
      `Agent "${agentName}" uses adapter "${agent.adapter}", which is not available. Available adapters: ${[...deps.adapters.keys()].join(", ")}. Add the plugin that provides it.`,
      { agent: agentName, adapter: agent.adapter },
    );
  }
  return adapter;
}

/** `<stateDir>/agents/<id>`: where adapters keep an instance's files. Removed with the instance. */
export async function ensureInstanceDir(stateDir: string, id: string): Promise<string> {
  const dir = path.join(stateDir, "agents", id);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  return dir;
}
