import type { Command } from "commander";
import { positiveInt, type ActionFactory, type Cli } from "../context.js";
import { serveStatus } from "./serve.js";
import { pluginOption } from "./spawn.js";

export function registerLifecycle(program: Command, action: ActionFactory): void {
  program
    .command("terminate")
    .alias("kill")
    .description("End an instance: its agent, the processes it started and its tmux session.")
    .argument("<id>", "instance id (see tmux-claude list)")
    .option("--cascade", "also terminate its descendants (without it, an instance with running children is refused)")
    .option("--plugin <name.key=value>", "an option for a plugin (repeatable), e.g. --plugin git.force=true; a JSON value is parsed", pluginOption, {})
    .option("--json", "print the terminated ids as JSON")
    .action(action(terminate));

  program
    .command("restart")
    .description("Relaunch an instance in the same workdir (resuming its conversation where the agent can) and wait until it is ready.")
    .argument("<id>", "instance id (see tmux-claude list)")
    .option("--no-wait", "return once it is ready, without waiting for the messages kept for it to be delivered")
    .option("--timeout <ms>", "how long to wait for the kept messages to be delivered", positiveInt("--timeout"), 600_000)
    .option("--json", "print the instance record as JSON")
    .addHelpText(
      "after",
      "\nMessages queued for an instance that exited are kept. Without tmux-claude serve, restart waits\nuntil they are delivered (each when the agent is idle again); with serve, serve delivers them.",
    )
    .action(action(restart));

  program
    .command("resume")
    .description("Resume an instance whose delivery is paused (a budget's pause, limits.maxTurns): the messages queued meanwhile are delivered, in order.")
    .argument("<id>", "instance id (tmux-claude list shows paused ones)")
    .option("--no-wait", "return at once, without waiting for the queued messages to be delivered")
    .option("--timeout <ms>", "how long to wait for the queued messages to be delivered", positiveInt("--timeout"), 600_000)
    .option("--json", "print { id, resumed, delivered } as JSON")
    .addHelpText("after", "\nWithout tmux-claude serve, resume waits until the queued messages are delivered (each when the agent is idle again); with serve, serve delivers them.")
    .action(action(resume));
}

async function resume(cli: Cli, id: string, flags: { json?: boolean; wait: boolean; timeout: number }): Promise<number> {
  return cli.withKernel("resume", async (kernel) => {
    const resumed = await kernel.release(id);
    // As restart: this process is the only one delivering unless serve runs.
    const delivering = resumed && flags.wait && !(await serveStatus(kernel.stateDir)).running;
    const delivered = delivering ? await cli.wait(`delivering the messages queued for ${id}...`, kernel.deliverQueued(id, flags.timeout)) : 0;
    if (flags.json) cli.json({ id, resumed, ...(delivering ? { delivered } : {}) });
    else if (!resumed) cli.out(`${id} was not paused.`);
    else cli.out(`Resumed ${id}.${delivering ? ` Delivered ${delivered} queued message${delivered === 1 ? "" : "s"}.` : " What was queued for it is delivered, in order."}`);
    return 0;
  });
}

async function terminate(cli: Cli, id: string, flags: { cascade?: boolean; plugin: Record<string, Record<string, unknown>>; json?: boolean }): Promise<number> {
  return cli.withKernel("terminate", async (kernel) => {
    const plugins = Object.keys(flags.plugin).length ? { plugins: flags.plugin } : {};
    const terminated = await cli.wait(`terminating ${id}...`, kernel.terminate(id, { cascade: flags.cascade ?? false, ...plugins }));
    cli.auditResult = { terminated };
    if (flags.json) cli.json({ terminated });
    else cli.out(`Terminated ${terminated.join(", ")}.`);
    return 0;
  });
}

async function restart(cli: Cli, id: string, flags: { json?: boolean; wait: boolean; timeout: number }): Promise<number> {
  return cli.withKernel("restart", async (kernel) => {
    const instance = await cli.wait(`restarting ${id}...`, kernel.restart(id));
    // This process is the only one watching the instance unless serve runs: deliver what it kept before letting go.
    // A paused one (its hold outlives the restart) gets nothing until it is resumed: nothing to wait for.
    const delivering = flags.wait && !instance.hold && !(await serveStatus(kernel.stateDir)).running;
    const delivered = delivering ? await cli.wait(`delivering the messages kept for ${id}...`, kernel.deliverQueued(id, flags.timeout)) : 0;
    cli.auditResult = { id: instance.id, status: instance.status };
    if (flags.json) cli.json(delivering ? { ...instance, deliveredQueued: delivered } : instance);
    else cli.out(`Restarted ${instance.id}; it is ${instance.status}.${delivered ? ` Delivered ${delivered} kept message${delivered === 1 ? "" : "s"}.` : ""}${instance.hold ? ` It is paused (${instance.hold.reason}): tmux-claude resume ${id} delivers what waits.` : ""}`);
    return 0;
  });
}
