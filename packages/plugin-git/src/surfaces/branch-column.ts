// The BRANCH column of `list` and `list --tree`: each instance's branch.
import type { ListColumn, PluginContext } from "@tmux-claude/core";
import type { GitInstanceState } from "../types.js";

export function installBranchColumn(ctx: PluginContext): void {
  const column: ListColumn = {
    header: "BRANCH",
    value(instance) {
      const state = instance.pluginState?.[ctx.name] as GitInstanceState | undefined;
      if (!state?.branch) return undefined;
      // A shared checkout's branch is not the instance's own: say so.
      return state.isolation === "shared" ? `${state.branch} (shared)` : state.branch;
    },
  };
  ctx.hooks.listColumns.tap((columns) => [...columns, column]);
}
