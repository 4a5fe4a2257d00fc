// What plugin-git tells a person through `ctx.notice` (kind "conflict"): a
// notifier (plugin-notify) sends it to a webhook, Slack or Discord. Raised
// once per event: a forecast by the one write that changed the pair, a merge
// conflict by the one process that recorded the request's outcome.
import type { NoticeInput } from "@tmux-claude/core";
import type { ConflictForecastEvent } from "../forecast/forecaster.js";
import type { MergeOutcome } from "../merge/engine.js";
import type { ConflictFile } from "../types.js";

function fileList(files: readonly ConflictFile[], max = 5): string {
  const paths = files.map((file) => file.path);
  return paths.length > max ? `${paths.slice(0, max).join(", ")} and ${paths.length - max} more` : paths.join(", ");
}

export function forecastNotice(event: ConflictForecastEvent): NoticeInput {
  const other = event.other.id ? `${event.other.id} (${event.other.branch})` : event.other.branch;
  return {
    kind: "conflict",
    severity: "warning",
    title: `Conflict forecast: ${event.instance.id} (${event.instance.branch}) and ${other} conflict in ${fileList(event.files)}`,
    instanceId: event.instance.id,
    eventId: event.eventId,
    data: {
      between: event.between,
      parentId: event.parentId,
      instance: event.instance,
      other: event.other,
      files: event.files.map((file) => ({ path: file.path, kind: file.kind })),
    },
  };
}

/** A queued merge that ended in a conflict; undefined for any other outcome. */
export function mergeConflictNotice(outcome: MergeOutcome): NoticeInput | undefined {
  if (outcome.status !== "conflict") return undefined;
  const files = outcome.conflicts ?? [];
  return {
    kind: "conflict",
    severity: "warning",
    title: `Merge of ${outcome.source} into ${outcome.target} conflicts${files.length ? ` in ${fileList(files)}` : ""}; ${outcome.target} was not changed`,
    ...(outcome.instanceId ? { instanceId: outcome.instanceId } : {}),
    // The request's id: the same conflict recorded again (a repaired queue) is the same event.
    eventId: `merge-conflict-${outcome.requestId}`,
    data: { between: "merge", requestId: outcome.requestId, source: outcome.source, target: outcome.target, files: files.map((file) => ({ path: file.path, kind: file.kind })) },
  };
}
