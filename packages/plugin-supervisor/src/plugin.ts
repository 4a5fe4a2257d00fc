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
 * processes), and for a stall by serve; serve, when it starts, tells what a
 * process that closed mid-tell left untold.
 */
export const supervisor = definePlugin({
  name: PLUGIN_NAME,
  options: z.strictObject({}),
  setup(ctx) {
    const blockers = new Blockers(ctx);
    const { stallAfterMs } = ctx.config.supervision;
    // `stallAfterMs: false` turns stall detection off; the other blockers are still told.
    const watcher =
      ctx.mode === "serve" && stallAfterMs !== false
        ? new StallWatcher(ctx.kernel, stallAfterMs, ctx.logger, {
            stalled: async (id, stall) => blockers.blocked(await ctx.kernel.get(id), `stalled: ${stall.why}`),
            resumed: (id) => blockers.unblocked(id),
          })
        : undefined;
    ctx.hooks.statusChange.tapPromise(async ({ instance, to }) => {
      watcher?.statusChanged(instance.id, to);
      if (to === "exited") return;
      const why = blockedReason({ ...instance, status: to, stalled: undefined });
      // With the status it now has: that is the kind told, and what the advice is about.
      if (why) await blockers.blocked({ ...instance, status: to }, why);
      else await blockers.unblocked(instance.id);
    });
    if (watcher) {
      ctx.hooks.ready.tapPromise(async () => {
        await watcher.start();
        // What a process closing mid-tell left untold (its claim given back) is told now; told episodes keep their claim.
        for (const instance of await ctx.kernel.list({ blocked: true })) {
          if (instance.tmux.node === ctx.kernel.node && instance.blocked) await blockers.blocked(instance, instance.blocked);
        }
      });
      ctx.onClose(() => watcher.stop());
    }
  },
});

/** The config with the supervisor added unless it lists one itself: the CLI supervises by default. */
export function withSupervisor(config: ResolvedConfig): ResolvedConfig {
  if (config.plugins.some((plugin) => plugin.name === PLUGIN_NAME)) return config;
  return { ...config, plugins: [...config.plugins, supervisor()] };
}
