import type { Progress, ProgressItem } from "@tmux-claude/core";
import type { HookPayload } from "./events.js";

/**
 * The tools with which Claude Code keeps its own task list: `TodoWrite`
 * (the whole list each call; older releases) and `TaskCreate`/`TaskUpdate`
 * (one task per call; newer releases), whose list `TaskList` returns whole.
 * Every tool's PostToolUse event comes (a stall watcher counts them); only
 * these tools' change the list.
 */
export const TASK_TOOLS = ["TodoWrite", "TaskCreate", "TaskUpdate", "TaskList"] as const;

/** One task as the adapter keeps it (persisted in agentState.tasks, so a kernel re-attaching goes on from it). */
export interface TrackedTask {
  /** TaskCreate's id, which TaskUpdate names; TodoWrite's tasks have none. */
  id?: string;
  text: string;
  /** The present-continuous form Claude Code shows while it works on the task ("Writing tests"). */
  activeForm?: string;
  state: ProgressItem["state"];
}

/** Bounds of what is reported: the kernel refuses longer texts and lists (PROGRESS_LIMITS). */
const TEXT_MAX = 200;
const ITEMS_MAX = 100;
/** Tasks kept in agentState.tasks: the record is rewritten on every task event (and crosses Redis), so it stays bounded; tasks past this are not counted. */
export const TASKS_MAX = 1_000;
const STATES: ReadonlySet<string> = new Set(["pending", "in_progress", "completed"]);

/** The agent's own task list, followed through its task tools' PostToolUse events. No screen is read. */
export class TaskList {
  constructor(private tasks: TrackedTask[] = []) {}

  get list(): readonly TrackedTask[] {
    return this.tasks;
  }

  /** Apply one PostToolUse event; true when the list changed. */
  apply(payload: HookPayload): boolean {
    const input = record(payload.tool_input);
    const before = JSON.stringify(this.tasks);
    switch (payload.tool_name) {
      case "TodoWrite": {
        // A subagent's TodoWrite (the event names its agent_id) is its own list in Claude Code, not the instance's plan.
        if (payload.agent_id !== undefined) return false;
        const todos = Array.isArray(input.todos) ? input.todos : [];
        this.tasks = todos.slice(0, TASKS_MAX).map(record).map((t) => ({ text: text(t.content), ...activeForm(t.activeForm), state: state(t.status) ?? "pending" }));
        break;
      }
      case "TaskCreate": {
        const created = record(record(payload.tool_response).task);
        const id = typeof created.id === "string" || typeof created.id === "number" ? String(created.id) : undefined;
        // Claude Code empties a list whose tasks are all completed (no hook says so): a task created then starts a new one.
        const kept = this.tasks.length > 0 && this.tasks.every((t) => t.state === "completed") ? [] : this.tasks;
        if (kept.length >= TASKS_MAX) return false;
        this.tasks = [...kept, { ...(id !== undefined ? { id } : {}), text: text(created.subject ?? input.subject), ...activeForm(input.activeForm), state: "pending" }];
        break;
      }
      case "TaskList": {
        // The whole list as Claude Code has it (after a reset: none): the copy follows it, keeping the active forms it knew.
        const listed = record(payload.tool_response).tasks;
        if (!Array.isArray(listed)) return false;
        const known = new Map(this.tasks.filter((t) => t.id !== undefined).map((t) => [t.id, t]));
        this.tasks = listed.slice(0, TASKS_MAX).map(record).map((t) => {
          const id = String(t.id ?? "");
          return { id, text: text(t.subject), ...activeForm(known.get(id)?.activeForm), state: state(t.status) ?? "pending" };
        });
        break;
      }
      case "TaskUpdate": {
        const id = String(input.taskId ?? "");
        const response = record(payload.tool_response);
        // A refused update (an unknown id) changed nothing in Claude Code's list either.
        if (response.success === false) return false;
        if (input.status === "deleted") {
          this.tasks = this.tasks.filter((t) => t.id !== id);
          break;
        }
        this.tasks = this.tasks.map((t) =>
          t.id !== id
            ? t
            : { ...t, ...(typeof input.subject === "string" ? { text: text(input.subject) } : {}), ...activeForm(input.activeForm ?? t.activeForm), state: state(input.status) ?? t.state },
        );
        break;
      }
      default:
        return false;
    }
    return JSON.stringify(this.tasks) !== before;
  }

  /** Forget the list (a new conversation: startup or /clear). True when there was one. */
  clear(): boolean {
    const had = this.tasks.length > 0;
    this.tasks = [];
    return had;
  }

  /** done = completed of all; current = the task in progress (its active form when given); null without tasks. */
  progress(): Omit<Progress, "at" | "source"> | null {
    if (this.tasks.length === 0) return null;
    const working = this.tasks.find((t) => t.state === "in_progress");
    const current = working ? (working.activeForm ?? working.text) : undefined;
    return {
      done: this.tasks.filter((t) => t.state === "completed").length,
      total: this.tasks.length,
      ...(current ? { current: cut(current) } : {}),
      items: this.tasks.slice(0, ITEMS_MAX).map((t) => ({ text: cut(t.text), state: t.state })),
    };
  }
}

/** The tasks as stored in agentState (an older or foreign state has none). */
export function readTasks(value: unknown): TrackedTask[] {
  if (!Array.isArray(value)) return [];
  return value
    .map(record)
    .filter((t) => typeof t.text === "string" && STATES.has(String(t.state)))
    .slice(0, TASKS_MAX)
    .map((t) => ({ ...(typeof t.id === "string" ? { id: t.id } : {}), text: cut(t.text as string), ...activeForm(t.activeForm), state: t.state as TrackedTask["state"] }));
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** Texts are kept cut to what is reported (the kernel takes no more): the stored list stays small. */
function text(value: unknown): string {
  return typeof value === "string" ? cut(value) : "";
}

function activeForm(value: unknown): { activeForm?: string } {
  return typeof value === "string" && value !== "" ? { activeForm: cut(value) } : {};
}

function state(value: unknown): TrackedTask["state"] | undefined {
  return typeof value === "string" && STATES.has(value) ? (value as TrackedTask["state"]) : undefined;
}

function cut(value: string): string {
  return value.length <= TEXT_MAX ? value : `${value.slice(0, TEXT_MAX - 1)}…`;
}
