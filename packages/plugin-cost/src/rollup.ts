// Which instances a roll-up sums: a subtree (from list's children) and a workflow run's instances.
import { ErrorCodes, TmuxClaudeError, type InstanceSummary } from "@tmux-claude/core";

/** The instance and its descendants, parents before children, from one list of every instance. */
export function subtreeIds(instances: readonly InstanceSummary[], id: string): string[] {
  const byId = new Map(instances.map((instance) => [instance.id, instance]));
  if (!byId.has(id)) throw new TmuxClaudeError(ErrorCodes.INSTANCE_NOT_FOUND, `No instance "${id}". See tmux-claude list.`, { id });
  const ids = new Set<string>();
  const visit = (current: string) => {
    // A record names its children; one whose record is gone (terminated) has nothing left to count.
    const instance = byId.get(current);
    if (!instance || ids.has(current)) return;
    ids.add(current);
    for (const child of instance.children) visit(child);
  };
  visit(id);
  return [...ids];
}

/** The part of the workflows plugin's api a run's cost needs (optional: a kernel without it has no runs). */
export interface RunSource {
  runs(): Promise<readonly { id: string; workflow: { name?: string }; state: string; tasks: readonly { instanceId?: string }[] }[]>;
}

/** A run's instances: its tasks' instances and what they spawned, while their records exist. */
export function runIds(instances: readonly InstanceSummary[], taskInstances: readonly string[]): string[] {
  const present = new Set(instances.map((instance) => instance.id));
  const ids = new Set<string>();
  for (const id of taskInstances) if (present.has(id)) for (const member of subtreeIds(instances, id)) ids.add(member);
  return [...ids];
}
