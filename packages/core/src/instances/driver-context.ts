import type { DriverContext, PaneIO, StatusReport } from "../agents/adapter.js";
import type { InstanceRecord, InstanceStatus } from "../store/types.js";
import type { Live, ManagerDeps } from "./deps.js";
import { agentConfig } from "./lookups.js";
import type { ProgressInput } from "./progress.js";
import { sameLaunch } from "./same-launch.js";

/** How an attachment's driver reaches the registry: its status changes and record writes. */
export interface DriverHost {
  applyStatus(id: string, to: InstanceStatus, report?: StatusReport): Promise<boolean>;
  /** The adapter reported (whether or not the status changed): kernel.activity's "report". */
  reported(id: string, quietForMs?: number): void;
  persist(id: string, updater: (record: InstanceRecord) => InstanceRecord): Promise<void>;
  setProgress(id: string, report: ProgressInput | null): Promise<unknown>;
}

/** What a driver sees of its instance: its pane (through `live`'s listeners), record, status and agent state. */
export function driverContext(deps: ManagerDeps, host: DriverHost, live: Live, instanceDir: string): DriverContext {
  const { runtime, logger } = deps;
  const record = live.record;
  const pane: PaneIO = {
    paneId: record.tmux.paneId,
    capture: (options) => runtime.capture(record.tmux.paneId, options),
    sendText: (text, options) => runtime.sendText(record.tmux.paneId, text, options),
    sendKey: (key) => runtime.sendKey(record.tmux.paneId, key),
    onOutput: (listener) => {
      live.listeners.add(listener);
      return () => live.listeners.delete(listener);
    },
  };
  return {
    instanceId: record.id,
    instanceDir,
    record: () => live.record,
    pane,
    logger: logger.child({ instance: record.id, agent: record.agent }),
    agent: agentConfig(deps, record.agent),
    status: () => live.record.status,
    setStatus: (status, report) => {
      void host.applyStatus(record.id, status, report);
      host.reported(record.id);
    },
    setProgress: (report) => {
      // The adapter's name says where it came from; a report that fails the checks is the adapter's bug, logged, not the agent's.
      const source = agentConfig(deps, record.agent).adapter;
      host.setProgress(record.id, report && { ...report, source }).catch((error: unknown) => logger.warn({ err: error, instance: record.id }, "could not store the agent's progress"));
    },
    activity: (options) => host.reported(record.id, options?.quietForMs),
    get agentState() {
      return live.record.agentState ?? {};
    },
    updateAgentState: async (patch) => {
      live.record = { ...live.record, agentState: { ...live.record.agentState, ...patch } };
      await host.persist(record.id, sameLaunch(record.tmux.paneId, (r) => ({ ...r, agentState: { ...r.agentState, ...patch } })));
    },
  };
}
