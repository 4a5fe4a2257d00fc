import type { Logger } from "pino";
import type { AgentAdapter, AgentDriver } from "../agents/adapter.js";
import type { Settings } from "../config/schema.js";
import type { KernelHooks } from "../kernel/hooks.js";
import type { InstanceRecord } from "../store/types.js";
import type { StateStore } from "../store/store-contract.js";
import type { TmuxRuntime } from "../tmux/runtime.js";
import type { Nodes } from "./nodes.js";

/** What the instance manager's parts are built with: the kernel's config, store, tmux, hooks and adapters. */
export interface ManagerDeps {
  config: Settings;
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
  /** Its adapter's outputIsActivity: whether an output chunk is a kernel.activity "output" event. */
  outputIsActivity: boolean;
  /** The last bytes of output, to explain an agent that died. */
  tail: Buffer;
  /** Aborted when the instance exits or is detached. */
  gone: AbortController;
}
