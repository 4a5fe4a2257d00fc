import { progressRollup, progressText, rollupText, type KernelApi } from "@tmux-claude/core";
import type { z } from "zod";
import { assertTarget, describeCaller, type Caller } from "./caller.js";
import { forbidden } from "./errors.js";
import * as s from "./schemas.js";
import type { ToolDef } from "./tool-def.js";
import { progressView } from "./views.js";

type Access = { allowed(caller: Caller): boolean; refusal(caller: Caller): string };

/**
 * `progress`: an agent reports how far it is with its own task (any agent,
 * whatever its role: a specialist too). `get_progress` (the seeds'
 * getProgress): each instance's progress in a subtree and their sum, for
 * the callers and targets `read` allows.
 */
export function progressTools(kernel: KernelApi, orchestrator: Access): ToolDef[] {
  return [
    {
      name: "progress",
      title: "Report your progress",
      description:
        'Report how far you are with your task: done of total steps and the step you work on now (current, e.g. "Writing tests"). Your parent sees it in read, list and get_progress. Call it again as you go; done must be between 0 and total.',
      input: s.progressInput,
      output: s.progressOutput,
      allowed: () => true,
      refusal: () => "",
      run: async (args, caller) => {
        const a = args as z.output<typeof s.progressInput>;
        const id = a.instanceId ?? caller.instanceId;
        if (id === null) throw forbidden("The root caller has no progress of its own: name the instance with instanceId.", {});
        if (caller.instanceId !== null && id !== caller.instanceId) {
          throw forbidden(`${describeCaller(caller)} may report only its own progress, not that of "${id}". Leave instanceId out.`, { caller: caller.instanceId, target: id });
        }
        const { instanceId: _id, ...report } = a;
        const stored = await kernel.setProgress(id, { ...report, source: "tool" });
        const progress = stored.progress!;
        return { structured: { instanceId: id, progress: progressView(progress) }, text: `Progress of "${id}": ${progressText(progress)}.` };
      },
    },
    {
      ...orchestrator,
      name: "get_progress",
      title: "Progress of a subtree",
      description:
        "How far each instance of a subtree is (its own task list or progress reports) and the sum: done/total over the instances that report progress, and how many do not. Default: your own subtree (you and everything below you).",
      input: s.getProgressInput,
      output: s.getProgressOutput,
      annotations: { readOnlyHint: true },
      run: async (args, caller) => {
        const a = args as z.output<typeof s.getProgressInput>;
        const id = a.instanceId ?? caller.instanceId;
        if (id !== null) await assertTarget(kernel, caller, id, "get the progress of", true);
        if (id !== null) await kernel.get(id);
        const rollup = progressRollup(await kernel.list(), id);
        const instances = rollup.instances.map((i) => ({ ...i, ...(i.progress ? { progress: progressView(i.progress) } : {}) }));
        return { structured: { ...rollup, instances }, text: rollupText(rollup) };
      },
    },
  ];
}
