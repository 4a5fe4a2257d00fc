import { readTasks, type TrackedTask } from "./tasks.js";

/** What the claude adapter persists in the instance record's `agentState`. */
export interface ClaudeAgentState {
  /** The conversation this instance is in; SessionStart reports changes (`/clear`, resume, fork). */
  sessionId: string;
  /** Names the current process of the instance; its hooks carry it, hooks of earlier processes do not. */
  launchId: string;
  /** Bytes of `events.jsonl` already applied, so a kernel that re-attaches neither replays nor misses events. */
  eventsOffset: number;
  /** True when the current process resumed an earlier conversation (`--resume`). */
  resumed: boolean;
  /** The current session's transcript (from the hooks). */
  transcriptPath?: string;
  /** Every transcript this instance wrote, for its token usage across `/clear` and restarts. */
  transcripts: string[];
  /**
   * Set when the instance runs somewhere a plugin moved it (`workDirOrigin`)
   * and the user trusted that origin in Claude Code: its folder-trust dialog is answered yes.
   */
  trustedOrigin?: string;
  /** The agent's own task list as its task tools left it (tasks.ts): what its progress is made of. */
  tasks?: TrackedTask[];
}

/** The state as stored, which may be partial (an instance launched by an older version) or foreign. */
export function readState(state: Record<string, unknown>): Partial<ClaudeAgentState> {
  return {
    sessionId: typeof state.sessionId === "string" ? state.sessionId : undefined,
    launchId: typeof state.launchId === "string" ? state.launchId : undefined,
    eventsOffset: typeof state.eventsOffset === "number" ? state.eventsOffset : undefined,
    resumed: typeof state.resumed === "boolean" ? state.resumed : undefined,
    transcriptPath: typeof state.transcriptPath === "string" ? state.transcriptPath : undefined,
    transcripts: Array.isArray(state.transcripts) ? state.transcripts.filter((t): t is string => typeof t === "string") : undefined,
    trustedOrigin: typeof state.trustedOrigin === "string" ? state.trustedOrigin : undefined,
    tasks: readTasks(state.tasks),
  };
}
