import { connect } from "node:net";
import { ErrorCodes, TmuxClaudeError, type InstanceRecord, type ReadyGate } from "@tmux-claude/core";
import { PLUGIN_NAME } from "./plugin.js";

/**
 * What this plugin keeps in an instance's record (`pluginState.mcp`). The
 * endpoint stamps it as a session of that instance's token initializes and
 * lists its tools, in whichever process serves it (usually `tmux-claude
 * serve`); a spawn in another process (a one-shot CLI command) sees it
 * through the store.
 */
export interface McpInstanceState {
  /** `Date.now()` when a session of this instance last initialized. */
  initializedAt?: number;
  /**
   * `Date.now()` when a session of this instance last asked for its tools.
   * This is what readiness waits for: measured with Claude Code 2.1.329 on a
   * loaded machine, a prompt typed right after `initialize` could reach the
   * model before the client had its tools.
   */
  toolsListedAt?: number;
}

/** The record's MCP state, whatever another process (or an older version) left there. */
export function mcpStateOf(record: InstanceRecord): McpInstanceState {
  const state = record.pluginState?.[PLUGIN_NAME];
  return state !== null && typeof state === "object" ? (state as McpInstanceState) : {};
}

/** The plugin's state with one stamp set; the rest stays. */
export function stamp(state: unknown, what: keyof McpInstanceState, at: number): McpInstanceState {
  const previous = state !== null && typeof state === "object" ? (state as McpInstanceState) : {};
  return { ...previous, [what]: at };
}

const since = (at: number | undefined, launchedAt: number) => (at ?? -1) >= launchedAt;

export interface SessionEndpoint {
  /** The URL the instance was given. */
  url: string;
  /** True when this process serves the endpoint itself. */
  servedHere: boolean;
  socket: string;
}

/**
 * Resolves once the instance's MCP session initialized and listed its tools during this launch.
 * When nothing listens at the endpoint (and this process does not serve it),
 * the session can never start: that fails at once, saying to start `serve`.
 */
export async function awaitSession(gate: ReadyGate, endpoint: SessionEndpoint): Promise<void> {
  const id = gate.instance.id;
  const details = { id, url: endpoint.url, plugin: PLUGIN_NAME, hook: "awaitReady" };
  let latest = gate.instance;
  let listedYet = false;
  const listed = gate
    .until((record) => {
      latest = record;
      return since(mcpStateOf(record).toolsListedAt, gate.launchedAt);
    })
    .then(() => {
      listedYet = true;
    });
  listed.catch(() => undefined);
  const unreachable = !endpoint.servedHere && !(await listens(endpoint.url, gate.signal));
  // A session that got its tools meanwhile (serve stopped right after) counts: the agent has them.
  if (unreachable && !listedYet && !gate.signal.aborted) {
    throw new TmuxClaudeError(
      ErrorCodes.SPAWN_FAILED,
      `Instance "${id}" cannot open its MCP session: nothing listens at ${endpoint.url}, where its tmux-claude tools are served. ` +
        `Start \`tmux-claude serve\` (for tmux socket "${endpoint.socket}") and spawn again; to spawn agents that do without their tools, set mcp({ awaitSession: [] }).`,
      details,
    );
  }
  try {
    await listed;
  } catch (error) {
    const reason = gate.signal.reason as unknown;
    if (!(gate.signal.aborted && reason instanceof TmuxClaudeError && reason.code === ErrorCodes.SPAWN_TIMEOUT)) throw error;
    const status = `Look at the agent's MCP status (tmux-claude attach ${id}, then /mcp).`;
    let what: string;
    if (since(mcpStateOf(latest).initializedAt, gate.launchedAt)) {
      what = `Its MCP session initialized but never asked for its tools (no tools/list request with its token at ${endpoint.url}). ${status}`;
    } else {
      const there = (await listens(endpoint.url, AbortSignal.timeout(1_000)))
        ? `Something listens there: check that it is \`tmux-claude serve\` for tmux socket "${endpoint.socket}". ${status}`
        : "Nothing listens there now: is `tmux-claude serve` running?";
      what = `Its MCP session never initialized: the endpoint at ${endpoint.url} saw no initialize request with its token. ${there}`;
    }
    throw new TmuxClaudeError(ErrorCodes.SPAWN_TIMEOUT, `${reason.message} ${what}`, details, { cause: error });
  }
}

/** Does anything accept TCP connections at the URL's host and port? */
function listens(url: string, signal: AbortSignal): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise<boolean>((resolve) => {
    const socket = connect({ host: hostname.replace(/^\[|\]$/gu, ""), port: Number(port) });
    const done = (answer: boolean) => {
      signal.removeEventListener("abort", onAbort);
      socket.destroy();
      resolve(answer);
    };
    const onAbort = () => done(false);
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
}
