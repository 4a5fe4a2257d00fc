import type { Logger } from "pino";
import type { AgentAdapter, AgentDriver, TokenUsage } from "../agents/adapter.js";
import type { ResolvedConfig } from "../config/schema.js";
import type { DeliveryReceipt, KernelHooks, WhenBusy } from "../kernel/hooks.js";
import type { InstanceRecord, InstanceStatus, StateStore } from "../store/types.js";
import type { TmuxRuntime } from "../tmux/runtime.js";
import type { Nodes } from "./nodes.js";

export interface SpawnOptions {
  role: string;
  workDir: string;
  prompt?: string;
  context?: string;
  /** Parent instance; null or undefined = top level. */
  parentId?: string | null;
  name?: string;
  /** Agent name from config; default `defaultAgent`. */
  agent?: string;
  /** Node to spawn on; default this kernel's. Another node's spawn goes through the `route` hook. */
  node?: string;
}

export interface SpawnResult {
  instance: InstanceRecord;
  /** Receipt of the first prompt, when one was given. */
  receipt?: DeliveryReceipt;
}

export interface SendOptions {
  /** When the agent is busy: queue until idle (default), type it in now, or refuse. */
  whenBusy?: WhenBusy;
}

export interface ReadOptions {
  /** Lines of screen to return (with scrollback). Default 40. */
  lines?: number;
  /** Block until the current turn ends (the instance is no longer starting or busy). */
  wait?: boolean;
  /** How long `wait` may block; default 10 minutes. */
  timeoutMs?: number;
}

export interface ReadResult {
  id: string;
  status: InstanceStatus;
  statusReason?: string;
  lastReply?: string;
  screen: string;
  queued: number;
  /** Tokens used so far, where the adapter can tell. */
  usage?: TokenUsage;
}

export interface ListFilter {
  role?: string;
  parentId?: string | null;
  status?: InstanceStatus;
}

export interface InstanceSummary extends InstanceRecord {
  children: string[];
}

export interface TerminateOptions {
  /** Also terminate every descendant; without it an instance with live children is refused. */
  cascade?: boolean;
}

export interface ManagerDeps {
  config: ResolvedConfig;
  configPath: string | null;
  store: StateStore;
  runtime: TmuxRuntime;
  hooks: KernelHooks;
  adapters: ReadonlyMap<string, AgentAdapter>;
  logger: Logger;
  stateDir: string;
  /** This kernel's node (`nodes.id`: the machine and tmux socket its instances live on), and how operations reach other nodes' instances. */
  nodes: Nodes;
}

/** An instance this process is attached to: its pane streams here and its driver runs here. */
export interface Live {
  record: InstanceRecord;
  driver: AgentDriver;
  listeners: Set<(data: Buffer) => void>;
  /** The last bytes of output, to explain an agent that died. */
  tail: Buffer;
  /** Aborted when the instance exits or is detached. */
  gone: AbortController;
}

/** Statuses in which the agent takes input without interrupting anything. */
export const DELIVERABLE: ReadonlySet<InstanceStatus> = new Set(["idle", "error"]);
