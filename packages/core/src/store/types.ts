/** The persisted identity and state of one agent instance. */
export type InstanceStatus = "starting" | "idle" | "busy" | "waiting" | "error" | "exited";

export const INSTANCE_STATUSES: readonly InstanceStatus[] = ["starting", "idle", "busy", "waiting", "error", "exited"];

export interface TmuxLocation {
  /**
   * The node (machine and tmux server) the instance lives on; only that
   * node's kernel touches its pane. Records written before nodes existed have
   * none: they belong to this machine's default node for their socket.
   */
  node?: string;
  /** tmux socket name (`tmux -L <socket>`). */
  socket: string;
  /** Session name; equals the instance id with characters tmux dislikes replaced. */
  session: string;
  /** Immutable pane id, e.g. `%12`. */
  paneId: string;
  /** Immutable window id, e.g. `@7`. */
  windowId: string;
  /** Pid of the process tmux started in the pane (the agent). */
  pid: number;
}

/** What was launched, so `restart` can launch it again. */
export interface LaunchRecord {
  command: string;
  args: string[];
  /** Only the variables added by config and plugins; the rest comes from the launching process. */
  env: Record<string, string>;
}

export interface InstanceRecord {
  id: string;
  role: string;
  parentId: string | null;
  /** Depth in the hierarchy: a top-level instance has depth 1. */
  depth: number;
  name?: string;
  /** Name of the agent in config (`agents.<name>`). */
  agent: string;
  workDir: string;
  status: InstanceStatus;
  /** Why the instance is in its status (error reason, exit cause). */
  statusReason?: string;
  createdAt: string;
  updatedAt: string;
  tmux: TmuxLocation;
  launch: LaunchRecord;
  /** The agent's last reply, where the adapter knows it. */
  lastReply?: string;
  /** State owned by the agent adapter (e.g. a Claude session id). Persisted as is. */
  agentState?: Record<string, unknown>;
  /** State owned by plugins, keyed by plugin name. */
  pluginState?: Record<string, unknown>;
  /** Set when `terminate` began: the record and its queued messages are about to be removed. */
  terminatedAt?: string;
}

/** A message waiting for its instance to become idle. */
export interface QueuedMessage {
  id: string;
  instanceId: string;
  text: string;
  /** Who sent it: an instance id, or null for the root (a person, the CLI). */
  from: string | null;
  enqueuedAt: string;
}

export type StoreChange =
  | { kind: "instance"; id: string }
  | { kind: "queue"; instanceId: string };

export interface StateStore {
  /** Prepare storage; called once by the kernel before anything else. */
  init(): Promise<void>;
  close(): Promise<void>;

  /**
   * Reserve and return a fresh id `<parentId>.<prefix>-<n>` (or `<prefix>-<n>`
   * at the top level). Never returns the same id twice, across processes,
   * even after the instance was deleted.
   */
  reserveId(parentId: string | null, prefix: string): Promise<string>;

  get(id: string): Promise<InstanceRecord | undefined>;
  list(): Promise<InstanceRecord[]>;
  /** Create or replace a record. */
  put(record: InstanceRecord): Promise<void>;
  /**
   * Atomic read-modify-write of one record. Returns the new record, or
   * undefined when the record does not exist (the updater is not called).
   */
  update(id: string, updater: (record: InstanceRecord) => InstanceRecord): Promise<InstanceRecord | undefined>;
  /** Remove a record and its queue. The id stays reserved. */
  delete(id: string): Promise<void>;

  /** Append a message to the instance's queue (FIFO). */
  enqueue(message: QueuedMessage): Promise<void>;
  /** The queued messages of one instance, oldest first. */
  queue(instanceId: string): Promise<QueuedMessage[]>;
  /** Remove one message; true when this caller removed it (claims it). */
  dequeue(instanceId: string, messageId: string): Promise<boolean>;

  /** Run `fn` holding a named mutex shared by every process using this store. */
  withLock<T>(key: string, fn: () => Promise<T>, options?: { timeoutMs?: number }): Promise<T>;

  /** Be told when records or queues change, also when another process changed them. */
  watch(listener: (change: StoreChange) => void): () => void;
}
