// Which instances a roll-up sums: a subtree (by parent links) and a workflow run's instances.
import { ErrorCodes, TmuxClaudeError } from "@tmux-claude/core";

/** What a roll-up needs of an instance: a live record's, or a terminated one's ledger entry. */
export interface RollupNode {
  id: string;
  parentId: string | null;
}

/** The instance and its descendants, parents before children, from one list of every instance (terminated ones from the ledger too). */
export function subtreeIds(instances: readonly RollupNode[], id: string): string[] {
  if (!instances.some((instance) => instance.id === id)) throw new TmuxClaudeError(ErrorCodes.INSTANCE_NOT_FOUND, `No instance "${id}". See tmux-claude list.`, { id });
  // By parent links, not the records' children lists: a terminated child has no record, only its ledger entry naming its parent.
  const children = new Map<string, string[]>();
  for (const instance of instances) if (instance.parentId !== null) children.set(instance.parentId, [...(children.get(instance.parentId) ?? []), instance.id]);
  const ids = new Set<string>();
  const visit = (current: string) => {
    if (ids.has(current)) return;
    ids.add(current);
    for (const child of children.get(current) ?? []) visit(child);
  };
  visit(id);
  return [...ids];
}

/** The part of the workflows plugin's api a run's cost needs (optional: a kernel without it has no runs). */
export interface RunSource {
  runs(): Promise<readonly { id: string; workflow: { name?: string }; state: string; tasks: readonly { instanceId?: string }[] }[]>;
}

/** A run's instances: its tasks' instances and what they spawned, terminated ones included while the ledger keeps them. */
export function runIds(instances: readonly RollupNode[], taskInstances: readonly string[]): string[] {
  const present = new Set(instances.map((instance) => instance.id));
  const ids = new Set<string>();
  for (const id of taskInstances) if (present.has(id)) for (const member of subtreeIds(instances, id)) ids.add(member);
  return [...ids];
}
