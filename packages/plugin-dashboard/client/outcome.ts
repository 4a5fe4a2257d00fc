// What an action's answer means for the person who clicked: a success line, or
// an error with the reason. A 200 is not success by itself: a merge that ends
// in a conflict answers 200 with `status: "conflict"`.
import { label, time } from "./format.js";
import type { ActionBodies, ActionName, InstanceView } from "./protocol.js";

export interface Outcome {
  ok: boolean;
  text: string;
}

/** The parts of plugin-git's MergeOutcome the page reads. */
interface MergeAnswer {
  status?: string;
  source?: string;
  target?: string;
  commit?: string;
  reason?: string;
  code?: string;
  conflicts?: { path: string; kind?: string }[];
  uncommittedLeftOut?: string[];
}

export function outcome(action: ActionName, id: string, result: unknown): Outcome {
  switch (action) {
    case "send":
    case "answer": {
      const receipt = result as { state?: string; acceptedAt?: string; position?: number } | undefined;
      if (receipt?.state === "delivered") return { ok: true, text: `${capitalize(action)}: delivered at ${time(receipt.acceptedAt)}.` };
      if (receipt?.state === "queued") return { ok: true, text: `${capitalize(action)}: queued (position ${receipt.position ?? "?"}); delivered when ${id} is idle.` };
      return { ok: false, text: `${capitalize(action)}: the server answered without a delivery receipt (${JSON.stringify(result)}); look at the messages list.` };
    }
    case "terminate": {
      const terminated = (result as { terminated?: string[] } | undefined)?.terminated;
      return terminated?.length ? { ok: true, text: `Terminated ${terminated.join(", ")}.` } : { ok: false, text: `Terminate: nothing was terminated (${id} may be gone already).` };
    }
    case "restart": {
      const status = (result as { status?: string } | undefined)?.status;
      return status && status !== "error" && status !== "exited"
        ? { ok: true, text: `Restarted ${id}: it is ${status}.` }
        : { ok: false, text: `Restart of ${id} did not bring it back: it is ${status ?? "in an unknown state"}. Look at its terminal.` };
    }
    case "merge":
      return mergeOutcome(result as MergeAnswer | undefined);
  }
}

function mergeOutcome(merge: MergeAnswer | undefined): Outcome {
  const what = `${merge?.source ?? "the branch"} into ${merge?.target ?? "its base"}`;
  const leftOut = merge?.uncommittedLeftOut?.length ? ` ${merge.uncommittedLeftOut.length} uncommitted file(s) were not part of it (only commits are merged): ${merge.uncommittedLeftOut.slice(0, 5).join(", ")}.` : "";
  switch (merge?.status) {
    case "merged":
      return { ok: true, text: `Merged ${what}${merge.commit ? ` (now ${merge.commit.slice(0, 12)})` : ""}.${leftOut}` };
    case "up-to-date":
      // Nothing failed: the target already has every commit.
      return { ok: true, text: `Nothing to merge: ${merge.target ?? "the base"} already contains ${merge.source ?? "the branch"}.${leftOut}` };
    case "conflict": {
      const files = (merge.conflicts ?? []).map((file) => `${file.path}${file.kind ? ` (${file.kind})` : ""}`);
      return { ok: false, text: `Not merged: conflict merging ${what}${files.length ? ` in ${files.join(", ")}` : ""}. ${merge.reason ?? ""}`.trim() };
    }
    default:
      return {
        ok: false,
        text: `Not merged (${merge?.status ?? "no status"}${merge?.code ? `, ${merge.code}` : ""}): ${merge?.reason ?? "the server gave no reason"}.${leftOut}`,
      };
  }
}

/** The confirmation dialog's title and detail for an action. */
export function describe(action: ActionName, instance: InstanceView, body: ActionBodies[ActionName]): [string, string] {
  const who = `${label(instance)} ${instance.id}`;
  switch (action) {
    case "send":
      return [`Send to ${who}?`, (body as ActionBodies["send"]).text];
    case "answer":
      return [`Answer ${who}?`, (body as ActionBodies["answer"]).text];
    case "terminate":
      return (body as ActionBodies["terminate"]).cascade
        ? [`Terminate ${who} and its subtree?`, "Every descendant is terminated too."]
        : [`Terminate ${who}?`, "Its children are left running."];
    case "restart":
      return [`Restart ${who}?`, "Its agent process is stopped and started again."];
    case "merge":
      return [`Merge ${who}'s branch?`, "Its branch goes through the merge queue into its base."];
  }
}

export function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
