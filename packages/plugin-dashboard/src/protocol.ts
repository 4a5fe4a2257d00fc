// The dashboard's wire protocol: what the server sends over `/api/socket` and
// returns from `/api/*`, and what the page may send back. Types only, so the
// client (client/*.ts, no bundler) can import them without pulling server code.
import type { TokenUsage } from "@tmux-claude/core";

export type InstanceStatusView = "starting" | "idle" | "busy" | "waiting" | "limited" | "error" | "exited";

/** Usage as the kernel last reported it, plus the totals of the instance and all its descendants. */
export type UsageView = TokenUsage & {
  /** The model that produced the usage, when the adapter knows it. */
  model?: string;
  /** Priced by the adapter, when it knows the model's prices. */
  costUsd?: number;
  /** costUsd of the instance and every descendant that has one. */
  subtreeCostUsd?: number;
  /** Some instance in the subtree has usage but no price (a model newer than the price table): subtreeCostUsd is a lower bound. */
  subtreeCostPartial?: true;
  /** Input + output tokens of the instance and every descendant. */
  subtreeTokens?: number;
};

export interface GitView {
  branch: string;
  base?: string;
  ahead: number;
  behind: number;
  /** Paths with uncommitted changes in the instance's worktree. */
  dirty: string[];
  /** Forecast conflicts with other instances' branches. */
  conflicts: { with: string; files: string[] }[];
  /** Instance ids waiting in the merge queue of this instance's branch (as target), in serving order. */
  queue?: string[];
}

export interface InstanceView {
  id: string;
  parentId: string | null;
  role: string;
  name?: string;
  agent: string;
  status: InstanceStatusView;
  statusReason?: string;
  /** Status `limited`: when its account's usage limit resets (ISO time). */
  limitedUntil?: string;
  node: string;
  /** Its node is not live (lost or stopped): `status` is only what that node last wrote. Why, in words. */
  unreachable?: string;
  /** Busy and flagged stalled (the supervisor: no event, no output for a while): since when it is silent, and why. A flag, not a status. */
  stalled?: { since: string; why: string };
  depth: number;
  createdAt: string;
  updatedAt: string;
  lastReply?: string;
  /** Messages in its queue now (the store's queue, not the history). */
  queued: number;
  usage?: UsageView;
  /** How far the agent says it is: its own task list (Claude Code's todos) or its `progress` reports. */
  progress?: ProgressView;
  git?: GitView;
  /** 0 = needs you (waiting, error, stalled, conflict); higher = less urgent. Sort by it, then by id. */
  attention: number;
}

export interface ProgressView {
  done: number;
  total: number;
  /** The step it works on now. */
  current?: string;
  /** Its task list, where the agent keeps one. */
  items?: { text: string; state: "pending" | "in_progress" | "completed" }[];
}

export interface MessageView {
  id: string;
  /** The sending instance, or null for the root (a person, the CLI, the dashboard). */
  from: string | null;
  to: string;
  text: string;
  sentAt: string;
  /**
   * queued: in the recipient's queue now. delivered: typed in (acceptedAt when
   * the delivering process recorded it; absent when the queue no longer has it
   * but its mark is not written yet). dropped: still queued when the recipient
   * was terminated, so never delivered.
   */
  state: "queued" | "delivered" | "dropped";
  acceptedAt?: string;
}

/** Server -> client, over `/api/socket`. `snapshot` comes first. */
export type ServerMessage =
  | { type: "snapshot"; node: string; plugins: string[]; instances: InstanceView[]; messages: MessageView[] }
  | { type: "instance"; instance: InstanceView }
  | { type: "removed"; id: string }
  | { type: "message"; message: MessageView }
  /**
   * Sent when a terminal is opened: the pane's recent scrollback and its screen (lines), to write before the
   * live bytes, and the pane's size (the bytes move the cursor for it: draw at that size).
   */
  | { type: "screen"; id: string; data: string; cols: number; rows: number }
  /** Live pane bytes, base64. */
  | { type: "output"; id: string; data: string }
  /** The terminal's stream ended (the instance exited, restarted or the server closes). */
  | { type: "ended"; id: string }
  /** A problem with something the client sent (a malformed frame, an unknown id); the socket stays open. */
  | { type: "error"; code: string; message: string }
  /** With the workflows plugin: every run, newest first (after `snapshot`, and again on every reconnect). */
  | { type: "runs"; runs: RunView[] }
  /** A run was started or changed (its document in the store). */
  | { type: "run"; run: RunView }
  /** A run's journal grew (its file on this node): fetch `GET /api/runs/:id/journal` again. */
  | { type: "journal"; id: string }
  /** With the knowledge plugin: every hierarchy's knowledge entries and file claims (after `snapshot`, and on every change). */
  | { type: "knowledge"; knowledge: KnowledgeView };

/** Shared knowledge and file claims (the knowledge plugin), as `GET /api/knowledge` and the `knowledge` frame carry them. */
export interface KnowledgeView {
  /** Newest first. */
  entries: { hierarchy: string; key: string; value: string; tags: string[]; by: string | null; at: string; version: number }[];
  /** Held claims, then waiting ones (`waiting: true`), by hierarchy. */
  claims: { hierarchy: string; instanceId: string; paths: string[]; at: string; waiting: boolean }[];
}

/** Client -> server, over `/api/socket`. */
export type ClientMessage = { type: "open"; id: string } | { type: "close"; id: string };

/** A workflow run as the workflows plugin keeps it in the store (`api.runs()`), without its variables' values. */
export interface RunView {
  id: string;
  workflow: string;
  /** Where the workflow came from: a file path, or `template:<name>`. */
  source: string;
  state: "running" | "succeeded" | "failed" | "interrupted";
  startedAt: string;
  endedAt?: string;
  /** endedAt - startedAt; absent while it runs. */
  durationMs?: number;
  /** The node whose process runs it (its journal is a file there). */
  node: string;
  /** The step it failed at and why. */
  failure?: { step: string; reason: string };
  /** In the workflow's order. */
  steps: { id: string; kind: string; needs: string[]; state: string; startedAt?: string; endedAt?: string; reason?: string }[];
  tasks: { step: string; index: number; task?: string; instanceId?: string; state: string; summary?: string; reason?: string }[];
}

/**
 * One line of a run's journal (the workflows plugin's JournalEvent): `at`,
 * `type` and the fields of its type, as written, except `run-started`, whose
 * workflow is reduced to its steps (a `run:` step's env may hold secrets) and
 * its variables to their names. Messages and replies carry their text (the
 * same trust as the message timeline).
 */
export type RunEventView = { at: string; type: string; step?: string; index?: number; instanceId?: string } & Record<string, unknown>;

/** `GET /api/runs/:id/journal`. */
export interface RunJournalView {
  run: RunView;
  events: RunEventView[];
}

/** `GET /api/session`. The CSRF token goes in the `x-csrf-token` header of every POST. */
export interface SessionInfo {
  csrf: string;
  node: string;
  plugins: string[];
}

/** The body of every 4xx/5xx answer from `/api/*`. */
export interface ErrorBody {
  error: { code: string; message: string };
}

/** `GET /health` (no auth): 200 when every check passed, else 503. */
export interface HealthBody {
  ok: boolean;
  checks: { name: string; ok: boolean; detail: string }[];
}

/** Action bodies: `POST /api/instances/:id/<action>` with header `x-csrf-token`. */
export interface ActionBodies {
  send: { text: string; whenBusy?: "queue" | "now" | "refuse" };
  answer: { text: string };
  terminate: { cascade?: boolean };
  restart: Record<string, never>;
  merge: { strategy?: "merge" | "squash" | "rebase"; resolve?: "none" | "ai" };
}
export type ActionName = keyof ActionBodies;

/** Paths, so the client and the server name them once. */
export const CSRF_HEADER = "x-csrf-token";
export const SOCKET_PATH = "/api/socket";
