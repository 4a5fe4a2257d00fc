// The page's actions, each as the root caller (a person at the dashboard),
// with bodies checked by zod so a bad one gets a 400 naming the field.
import { ErrorCodes, TmuxClaudeError, type KernelApi } from "@tmux-claude/core";
import { z } from "zod";
import { DashboardErrorCodes } from "../errors.js";
import type { GitApiLike } from "../model/git-fields.js";
import type { ActionName } from "../protocol.js";
import { HttpError } from "./errors.js";

const text = z.string().min(1, "must not be empty");

const schemas = {
  send: z.object({ text, whenBusy: z.enum(["queue", "now", "refuse"]).optional() }).strict(),
  answer: z.object({ text }).strict(),
  terminate: z.object({ cascade: z.boolean().optional() }).strict(),
  restart: z.object({}).strict(),
  merge: z.object({ strategy: z.enum(["merge", "squash", "rebase"]).optional(), resolve: z.enum(["none", "ai"]).optional() }).strict(),
} satisfies Record<ActionName, z.ZodType>;

export const ACTION_NAMES = Object.keys(schemas) as ActionName[];

export function isActionName(name: string): name is ActionName {
  return Object.hasOwn(schemas, name);
}

export interface ActionDeps {
  kernel: KernelApi;
  /** plugin-git's api, when loaded. */
  git: GitApiLike | undefined;
}

/** Run one action on one instance; resolves with what to answer (a receipt, the ids terminated, ...). */
export async function runAction(deps: ActionDeps, id: string, action: ActionName, rawBody: unknown): Promise<unknown> {
  const { kernel } = deps;
  // Named before anything runs, so an action on an instance that is gone is a 404 with its id, whatever the action.
  const record = await kernel.get(id).catch((error: unknown) => {
    if (error instanceof TmuxClaudeError && error.code === ErrorCodes.INSTANCE_NOT_FOUND) {
      throw new HttpError(404, DashboardErrorCodes.NOT_FOUND, `Instance "${id}" does not exist (any more): it may have been terminated. Reload the list.`);
    }
    throw error;
  });
  const parsed = schemas[action].safeParse(rawBody ?? {});
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.join(".") || "(body)"}: ${issue.message}`).join("; ");
    throw new HttpError(400, DashboardErrorCodes.BAD_REQUEST, `Invalid body for ${action}: ${issues}.`);
  }
  const body = parsed.data as Record<string, unknown>;
  // The kernel's own words name a CLI command; the page has a Restart button.
  if (record.status === "exited" && (action === "send" || action === "answer")) {
    throw new HttpError(409, ErrorCodes.INSTANCE_EXITED, `${record.name ?? record.role} ${id} has exited${record.statusReason ? ` (${record.statusReason})` : ""}: nothing can ${action === "send" ? "receive a message" : "answer"} there. Restart it first (Restart), or terminate it.`);
  }
  switch (action) {
    case "send":
      return kernel.send(id, body.text as string, body.whenBusy ? { whenBusy: body.whenBusy as "queue" | "now" | "refuse" } : {}, null);
    case "answer":
      if (record.status !== "waiting") {
        throw new HttpError(409, DashboardErrorCodes.CONFLICT, `Instance "${id}" is ${record.status}, not waiting for an answer. Use send to give it a message.`);
      }
      // A waiting agent is mid-turn: type the answer in now instead of queueing it behind the turn.
      return kernel.send(id, body.text as string, { whenBusy: "now" }, null);
    case "terminate":
      return { terminated: await kernel.terminate(id, { cascade: body.cascade === true }) };
    case "restart": {
      const restarted = await kernel.restart(id);
      return { id: restarted.id, status: restarted.status };
    }
    case "merge":
      if (!deps.git) throw new HttpError(404, DashboardErrorCodes.NOT_FOUND, `Merging needs plugin-git, which this serve does not load. Add git() to the config's plugins.`);
      return deps.git.merge(id, body, { instanceId: null, role: null });
  }
}
