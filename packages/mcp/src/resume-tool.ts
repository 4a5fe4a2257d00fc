import type { KernelApi } from "@tmux-claude/core";
import type { z } from "zod";
import { assertTarget, type Caller } from "./caller.js";
import * as s from "./schemas.js";
import type { ToolDef } from "./tool-def.js";

/**
 * `resume`: lift the hold on an instance below the caller (a budget's pause,
 * the turn cap, kernel.hold) so what was queued for it is delivered, in
 * order. A parent told that its subtree was paused decides here.
 */
export function resumeTool(kernel: KernelApi, base: { allowed(caller: Caller): boolean; refusal(caller: Caller): string }): ToolDef {
  return {
    ...base,
    name: "resume",
    title: "Resume a paused instance",
    description:
      "Resume an instance below you whose delivery is paused (read and list show paused: why): the messages queued meanwhile are delivered, in order. A budget pause is not made again for the same budget; spawns under a subtree over its budget stay refused until the budget is raised (budget tool).",
    input: s.resumeInput,
    output: s.resumeOutput,
    run: async (args, caller) => {
      const a = args as z.output<typeof s.resumeInput>;
      await assertTarget(kernel, caller, a.instanceId, "resume");
      const resumed = await kernel.release(a.instanceId);
      return {
        structured: { instanceId: a.instanceId, resumed },
        text: resumed ? `Resumed "${a.instanceId}": what was queued for it is delivered, in order.` : `"${a.instanceId}" was not paused.`,
      };
    },
  };
}
