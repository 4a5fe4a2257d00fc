// Shared by the engine tests: a harness with the workflows plugin, completing
// a task as its instance does (the `complete` tool's handler with the caller
// the MCP server would pass), and waiting for journal events.
import type { KernelApi } from "@tmux-claude/core";
import { createHarness, type Harness } from "@tmux-claude/testkit";
import { parseWorkflow, workflows, type JournalEvent, type RunRequest, type RunResult, type WorkflowsPluginApi } from "../src/index.js";

export async function workflowHarness(label: string, overrides: Parameters<typeof createHarness>[0] = {}): Promise<Harness & { api: WorkflowsPluginApi }> {
  const h = await createHarness({ ...overrides, plugins: [workflows(), ...(overrides.plugins ?? [])] }, { label });
  return Object.assign(h, { api: h.kernel.plugin<WorkflowsPluginApi>("workflows")! });
}

/** Call `complete` as `instanceId` (what its MCP session does). */
export async function completeAs(kernel: KernelApi, instanceId: string, summary: string, status: "ok" | "failed" = "ok"): Promise<unknown> {
  const tool = (await kernel.tools()).find((t) => t.name === "complete");
  if (!tool) throw new Error("no complete tool");
  const record = await kernel.get(instanceId);
  return tool.handler({ summary, status }, { instanceId, role: record.role });
}

/** A run in the background with its events recorded, and a way to wait for one. */
export function startRecorded(api: WorkflowsPluginApi, yaml: string, request: Omit<RunRequest, "workflow" | "onEvent"> = {}) {
  const events: JournalEvent[] = [];
  const waiters: { match: (e: JournalEvent) => boolean; resolve: (e: JournalEvent) => void }[] = [];
  const onEvent = (event: JournalEvent) => {
    events.push(event);
    for (const w of [...waiters]) if (w.match(event)) (waiters.splice(waiters.indexOf(w), 1), w.resolve(event));
  };
  const result: Promise<RunResult> = api.run({ ...request, workflow: parseWorkflow(yaml, "test.yaml"), onEvent });
  return {
    events,
    result,
    /** The `n`th event (1-based) matching, already seen or still to come. */
    next<T extends JournalEvent["type"]>(type: T, where: (e: Extract<JournalEvent, { type: T }>) => boolean = () => true, timeoutMs = 20_000): Promise<Extract<JournalEvent, { type: T }>> {
      const match = (e: JournalEvent) => e.type === type && where(e as Extract<JournalEvent, { type: T }>);
      const seen = events.find(match);
      if (seen) return Promise.resolve(seen as Extract<JournalEvent, { type: T }>);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${type} event within ${timeoutMs} ms; got: ${events.map((e) => e.type).join(", ")}`)), timeoutMs);
        waiters.push({ match, resolve: (e) => (clearTimeout(timer), resolve(e as Extract<JournalEvent, { type: T }>)) });
      });
    },
  };
}

export const ofType = <T extends JournalEvent["type"]>(events: JournalEvent[], type: T) => events.filter((e): e is Extract<JournalEvent, { type: T }> => e.type === type);
