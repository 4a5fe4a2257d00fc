// `git({...})`: the plugin factory. A plain object with closures (not
// definePlugin) because its `api` is handed out before `apply` runs and
// reaches the parts built there. Each part installs itself here with one line.
import type { Plugin } from "@tmux-claude/core";
import { installAutoCommit } from "./commit/auto-commit.js";
import { parseGitOptions, type GitUserOptions } from "./options.js";
import { BranchSignal, type BranchListener, type GitRuntime } from "./runtime.js";
import { installBranchColumn } from "./surfaces/branch-column.js";
import type { GitInstanceState } from "./types.js";
import { installIsolation, type IsolationPart } from "./worktree/isolation.js";

/** What other plugins get through `ctx.plugin("git")`. */
export interface GitApi {
  /** The git plugin's state on an instance: its worktree, branch and base; undefined when it has none. */
  status(id: string): Promise<GitInstanceState | undefined>;
  /** Called when an instance's branch gets commits (auto-commit) or is made (spawn); returns the unsubscribe function. */
  onBranchChanged(listener: BranchListener): () => void;
}

/** The parts, once applied. */
interface Parts {
  readonly runtime: GitRuntime;
  readonly isolation: IsolationPart;
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
      };
      const isolation = installIsolation(runtime);
      installAutoCommit(runtime);
      installBranchColumn(ctx);
      parts = { runtime, isolation };
    },
  };
}
