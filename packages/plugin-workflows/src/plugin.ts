// `workflows(options)`: the plugin factory. Written by hand (not
// definePlugin) because its `api` is handed out before `apply` runs and
// reaches the kernel's store and the engine made there.
import { parsePluginOptions, type Plugin, type PluginContext } from "@tmux-claude/core";
import { z } from "zod";
import { listTemplates, loadTemplate, parseDuration, parseWorkflow, planWorkflow, DURATION_HELP } from "./dsl/index.js";
import { JournalReader, journalDir, journalPath, startRun, type EngineDeps, type RunStore, type StartedRun, type TaskRef } from "./engine/index.js";
import { installRecorder } from "./engine/recorder.js";
import { installRunTools } from "./engine/tools.js";
import type { PersistedRun, RunRequest, WorkflowsApi } from "./types.js";

export const PLUGIN_NAME = "workflows";

const duration = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const ms = parseDuration(value);
  if (ms === undefined) ctx.addIssue({ code: "custom", message: `expected ${DURATION_HELP}, got ${JSON.stringify(value)}` });
  return ms ?? 0;
});

export const workflowsOptionsSchema = z
  .object({
    /** Timeout of every step and task that sets none (`30m`, `2h`, ms); unset: none. */
    stepTimeout: duration.optional(),
    /** Where run journals go (default `<stateDir>/runs`). */
    journalDir: z.string().min(1).optional(),
  })
  .strict();

export type WorkflowsOptions = z.input<typeof workflowsOptionsSchema>;

/** What the plugin's api offers besides WorkflowsApi: start a run without waiting for its end (the MCP tool does). */
export interface WorkflowsPluginApi extends WorkflowsApi {
  start(request: RunRequest): Promise<StartedRun>;
}

export function workflows(userOptions: WorkflowsOptions = {}): Plugin<WorkflowsPluginApi> {
  const options = parsePluginOptions(PLUGIN_NAME, workflowsOptionsSchema, userOptions);
  let applied: { ctx: PluginContext; deps: EngineDeps } | undefined;
  const parts = () => {
    if (!applied) throw new Error("The workflows plugin is not applied yet: use its api from a hook (init or later) or a command.");
    return applied;
  };
  const api: WorkflowsPluginApi = {
    parse: parseWorkflow,
    templates: () => listTemplates().map(({ name, description }) => ({ name, description })),
    template: loadTemplate,
    plan: async (workflow, vars) => {
      // The kernel's plugin names: a merge step without the git plugin is refused, as a run would be.
      const plan = planWorkflow(workflow, parts().ctx.config, vars ?? {}, undefined, parts().ctx.kernel.pluginNames());
      return { steps: plan.steps.map((s) => ({ id: s.id, kind: s.kind, needs: s.needs, summary: s.summary })), warnings: plan.warnings };
    },
    start: (request) => startRun(parts().deps, request),
    run: async (request) => (await startRun(parts().deps, request)).done,
    runs: async () => (await parts().deps.store.runs.list()).map((doc) => doc.value).sort((a, b) => b.startedAt.localeCompare(a.startedAt)),
    journal: async (run) => {
      const stored = await parts().deps.store.runs.get(run);
      return new JournalReader(stored?.journal ?? journalPath(options.journalDir ?? journalDir(parts().ctx.kernel.stateDir), run)).events();
    },
  };
  return {
    name: PLUGIN_NAME,
    kernel: "^0.1.0",
    api,
    apply(ctx) {
      const store: RunStore = { runs: ctx.data<PersistedRun>("runs"), tasks: ctx.data<TaskRef>("tasks") };
      const deps: EngineDeps = {
        kernel: ctx.kernel,
        store,
        logger: ctx.logger,
        notice: (notice) => ctx.notice(notice),
        options: { ...(options.stepTimeout !== undefined ? { stepTimeoutMs: options.stepTimeout } : {}), ...(options.journalDir ? { journalDir: options.journalDir } : {}) },
      };
      installRecorder(ctx, store);
      installRunTools(ctx, deps);
      applied = { ctx, deps };
    },
  };
}
