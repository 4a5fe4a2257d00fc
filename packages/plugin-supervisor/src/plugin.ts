import { blockedReason, definePlugin, type ResolvedConfig } from "@tmux-claude/core";
import { z } from "zod";
import { Blockers } from "./blockers.js";
import { StallWatcher } from "./stalls.js";

export const PLUGIN_NAME = "supervisor";

/**
 * `supervisor()`: stalls and blockers. Its settings are the config's
 * `supervision` key (`stallAfterMs`), so a bad value is a config error naming
 * the file and key. Stall detection runs in `serve` (the process attached to
 * every instance of its node, see StallWatcher); blockers are told by
 * whichever process fires the instance's statusChange (once across
 * processes), and for a stall by serve.
 */
export const supervisor = definePlugin({
  name: PLUGIN_NAME,
  options: z.strictObject({}),
  setup(ctx) {
    const blockers = new Blockers(ctx);
    const watcher =
      ctx.mode === "serve"
        ? new StallWatcher(ctx.kernel, ctx.config.supervision.stallAfterMs, ctx.logger, {
            stalled: async (id, stall) => blockers.blocked(await ctx.kernel.get(id), `stalled: ${stall.why}`),
            resumed: (id) => blockers.unblocked(id),
          })
        : undefined;
    ctx.hooks.statusChange.tapPromise(async ({ instance, to }) => {
      watcher?.statusChanged(instance.id, to);
      if (to === "exited") return;
      const why = blockedReason({ ...instance, status: to, stalled: undefined });
      if (why) await blockers.blocked(instance, why);
      else await blockers.unblocked(instance.id);
    });
    if (watcher) {
      ctx.hooks.ready.tapPromise(() => watcher.start());
      ctx.onClose(() => watcher.stop());
    }
  },
});

/** The config with the supervisor added unless it lists one itself: the CLI supervises by default. */
export function withSupervisor(config: ResolvedConfig): ResolvedConfig {
  if (config.plugins.some((plugin) => plugin.name === PLUGIN_NAME)) return config;
  return { ...config, plugins: [...config.plugins, supervisor()] };
}
