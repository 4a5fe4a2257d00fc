// Scripting the stand-in model as a conflict resolver for the resolve tests.
import { match, type StandInModel } from "@tmux-claude/testkit";

/**
 * The model answers the resolver's prompt about merging `branch` by running
 * `command` (Bash) in the scratch worktree, then ends its turn replying `reply`.
 */
export function scriptResolver(model: StandInModel, branch: string, command: string, reply: string): void {
  const toolUseId = `toolu_resolve_${branch.replace(/\W/gu, "_")}`;
  model.rule({
    name: `resolve ${branch}`,
    when: match.lastUserTextIncludes(resolverPromptMark(branch)),
    reply: { text: "Resolving.", toolUse: { id: toolUseId, name: "Bash", input: { command, description: "Write the resolved file" } } },
    times: 1,
  });
  model.rule({ name: `resolved ${branch}`, when: match.hasToolResult({ toolUseId }), reply: { text: reply }, times: 1 });
}

/** The words of the resolver's prompt that name the branch being merged. */
export function resolverPromptMark(branch: string): string {
  return `with ${branch} merged into it`;
}
