// The command adapter (the echo agent's) with a token count: for tests of what
// the kernel and plugins do with an agent's usage, without a real agent.
import { commandAdapter, definePlugin, type TokenUsage } from "@tmux-claude/core";

/**
 * A plugin registering adapter `counting`: the command adapter whose driver
 * reports `usage(instanceId)` as its token use (undefined: none yet). A turn
 * end announces it (the `usage` hook) and stores it on the record.
 */
export const countingAgent = definePlugin({
  name: "counting-agent",
  setup(ctx) {
    ctx.registerAdapter({
      name: "counting",
      optionsSchema: commandAdapter.optionsSchema,
      launch: (launch) => commandAdapter.launch(launch),
      drive: (drive) => {
        const driver = commandAdapter.drive(drive);
        const usage = async (): Promise<TokenUsage | undefined> => countingUsage.get(drive.instanceId) ?? countingUsage.get("*");
        return Object.assign(Object.create(driver) as typeof driver, { usage });
      },
    });
  },
});

/** What each instance's counting agent reports, by instance id; `*` for every instance without its own entry. */
export const countingUsage = new Map<string, TokenUsage>();
