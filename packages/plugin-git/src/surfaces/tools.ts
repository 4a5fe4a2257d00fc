// The git plugin's read-only MCP tools: git_status and git_diff. Every role
// may call them, each on itself and the instances below it only (the root,
// a person's own MCP client, on anything). The merge tool is the merge part's.
import { ErrorCodes, TmuxClaudeError, type PluginContext, type ToolContribution } from "@tmux-claude/core";
import { z } from "zod";
import { assertInSubtree, type ToolCaller } from "./access.js";
import type { GitRuntime } from "../runtime.js";
import { diffSubcommand, instanceDiff } from "./diff.js";
import { gitStatuses, statusSubcommand, subtreeRecords, type StatusSources } from "./status.js";

const statusInput = z.strictObject({
  instanceId: z
    .string()
    .min(1)
    .optional()
    .describe("The instance whose branch to show, with the instances below it. Default: you and your subtree (the root: every instance)."),
});

const diffInput = z.strictObject({
  instanceId: z.string().min(1).optional().describe("The instance whose branch to diff against its base: you (the default) or one below you."),
  stat: z.boolean().optional().describe("A summary of changed files instead of the patch."),
});

export function gitTools(ctx: Pick<PluginContext, "kernel" | "config">, sources: StatusSources): ToolContribution[] {
  const { kernel } = ctx;
  // Every role: what one may see is decided per call by its subtree, not by its role.
  const roles = Object.keys(ctx.config.roles);
  return [
    {
      name: "git_status",
      description:
        "Git status of instances: each one's branch and base, commits ahead/behind its base, uncommitted files, forecast conflicts and queued merges. Covers you and the instances below you.",
      inputSchema: statusInput,
      roles,
      async handler(args, caller) {
        const { instanceId } = statusInput.parse(args);
        const root = instanceId ?? caller.instanceId;
        if (root !== null) await assertInSubtree(kernel, caller, root, "see the git status of");
        const all = await kernel.list();
        if (root !== null && !all.some((r) => r.id === root)) await kernel.get(root);
        return { instances: await gitStatuses(root === null ? all : subtreeRecords(all, root), sources, kernel) };
      },
    },
    {
      name: "git_diff",
      description: "The diff of an instance's branch against its base (what merging it would bring), with its uncommitted changes shown apart. You or an instance below you.",
      inputSchema: diffInput,
      roles,
      async handler(args, caller: ToolCaller) {
        const { instanceId, stat } = diffInput.parse(args);
        const target = instanceId ?? caller.instanceId;
        if (target === null) {
          throw new TmuxClaudeError(ErrorCodes.INVALID_ARGUMENT, "git_diff needs instanceId when called by the root (not an instance): name the instance to diff.", {});
        }
        await assertInSubtree(kernel, caller, target, "see the diff of");
        return instanceDiff(await kernel.get(target), stat ?? false);
      },
    },
  ];
}

/** git_status and git_diff as MCP tools and as `tmux-claude git status` / `git diff`. */
export function installStatusAndDiff(runtime: GitRuntime, sources: StatusSources): void {
  runtime.ctx.hooks.tools.tapPromise(async (tools) => [...tools, ...gitTools(runtime.ctx, sources)]);
  runtime.commands.register(statusSubcommand(sources));
  runtime.commands.register(diffSubcommand);
}
