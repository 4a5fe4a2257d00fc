// `/api/runs`: workflow runs and their journals, read through the workflows
// plugin's api (never its files or internals). Behind the session check like
// every `/api` route; read-only, so no CSRF.
import { isTmuxClaudeError } from "@tmux-claude/core";
import type { Hono } from "hono";
import { DashboardErrorCodes } from "../errors.js";
import { eventView, runView, type RunsFeed, type WorkflowsApiLike } from "../model/runs.js";
import type { RunJournalView, RunView } from "../protocol.js";
import { fail, type Env } from "./app.js";
import { HttpError } from "./errors.js";

export const NO_WORKFLOWS =
  "The workflows plugin is not loaded in this serve, so there are no runs to show: add workflows() from @tmux-claude/plugin-workflows to the config's plugins (the CLI's serve and monitor load it by default).";

/** `node`: this kernel's node (a run's journal is a file on the node that ran it). */
export function registerRunRoutes(app: Hono<Env>, workflows: { api: WorkflowsApiLike; feed: RunsFeed } | undefined, node: string): void {
  app.get("/api/runs", async (c) => {
    if (!workflows) return fail(c, new HttpError(404, DashboardErrorCodes.NOT_FOUND, NO_WORKFLOWS));
    return c.json((await workflows.api.runs()).map(runView) satisfies RunView[]);
  });

  app.get("/api/runs/:id/journal", async (c) => {
    if (!workflows) return fail(c, new HttpError(404, DashboardErrorCodes.NOT_FOUND, NO_WORKFLOWS));
    const id = c.req.param("id");
    // Only a run the store knows: the id never becomes a file path here.
    const run = (await workflows.api.runs()).find((r) => r.id === id);
    if (!run) return fail(c, new HttpError(404, DashboardErrorCodes.NOT_FOUND, `No workflow run "${id}": \`tmux-claude runs\` lists the runs (GET /api/runs here).`));
    let events: Awaited<ReturnType<WorkflowsApiLike["journal"]>>;
    try {
      events = await workflows.api.journal(id);
    } catch (error) {
      if (run.runner.node === node || !isTmuxClaudeError(error) || error.kind !== "not-found") throw error;
      return fail(
        c,
        new HttpError(404, DashboardErrorCodes.NOT_FOUND, `The journal of run "${id}" is a file on node "${run.runner.node}", where it ran (${run.journal}); this dashboard runs on node "${node}" and cannot read it there. Open that node's dashboard, or run \`tmux-claude replay ${id}\` on it.`),
      );
    }
    return c.json({ run: runView(run), events: events.map(eventView) } satisfies RunJournalView);
  });
}
