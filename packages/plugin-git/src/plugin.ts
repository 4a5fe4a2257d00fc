// `git({...})`: the plugin factory. A plain object with closures (not
// definePlugin) because its `api` is handed out before `apply` runs and
// reaches the parts built there. Each part installs itself here with one line.
import type { Plugin } from "@tmux-claude/core";
import { installAutoCommit } from "./commit/auto-commit.js";
import { parseGitOptions, type GitUserOptions } from "./options.js";
import { BranchSignal, type BranchListener, type GitRuntime } from "./runtime.js";
import { installBranchColumn } from "./surfaces/branch-column.js";
import { installGitCommands } from "./surfaces/commands.js";
import { installStatusAndDiff } from "./surfaces/tools.js";
import { installGc, type GcPart, type GcPolicy, type GcReport } from "./gc/index.js";
import type { GitInstanceState } from "./types.js";
import { installIsolation, type IsolationPart } from "./worktree/isolation.js";

/** What other plugins get through `ctx.plugin("git")`. */
export interface GitApi {
  /** The git plugin's state on an instance: its worktree, branch and base; undefined when it has none. */
  status(id: string): Promise<GitInstanceState | undefined>;
  /** Called when an instance's branch gets commits (auto-commit) or is made (spawn); returns the unsubscribe function. */
  onBranchChanged(listener: BranchListener): () => void;
  /** Apply a GC policy to the plugin's worktrees (`tmux-claude git gc`); unset criteria come from the `gc` options. */
  gc(policy?: GcPolicy): Promise<GcReport>;
}

/** The parts, once applied. */
interface Parts {
  readonly runtime: GitRuntime;
  readonly isolation: IsolationPart;
  readonly gc: GcPart;
}

export function git(userOptions: GitUserOptions = {}): Plugin<GitApi> {
  const options = parseGitOptions(userOptions);
  let parts: Parts | undefined;
  const applied = (): Parts => {
    if (!parts) throw new Error('The git plugin is not applied yet: use its api from a hook (init or later), not while plugins are being applied.');
    return parts;
  };
  const api: GitApi = {
    status: (id) => applied().runtime.state(id),
    onBranchChanged: (listener) => applied().runtime.branchChanged.on(listener),
    gc: (policy) => applied().gc.collect(policy),
  };
  return {
    name: "git",
    kernel: "^0.1.0",
    api,
    apply(ctx) {
      const runtime: GitRuntime = {
        ctx,
        options,
        branchChanged: new BranchSignal(ctx),
        state: (id) => ctx.state<GitInstanceState>(id).get(),
        commands: installGitCommands(ctx),
      };
      const isolation = installIsolation(runtime);
      installAutoCommit(runtime);
      installBranchColumn(ctx);
      const gc = installGc(runtime, { worktreeDir: isolation.worktreeDir });
      installStatusAndDiff(runtime, {});
      parts = { runtime, isolation, gc };
    },
  };
}
