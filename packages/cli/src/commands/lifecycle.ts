import type { Command } from "commander";
import type { ActionFactory, Cli } from "../context.js";

export function registerLifecycle(program: Command, action: ActionFactory): void {
  program
    .command("terminate")
    .alias("kill")
    .description("End an instance: its agent, the processes it started and its tmux session.")
    .argument("<id>", "instance id (see tmux-claude list)")
    .option("--cascade", "also terminate its descendants (without it, an instance with running children is refused)")
    .option("--json", "print the terminated ids as JSON")
    .action(action(terminate));

  program
    .command("restart")
    .description("Relaunch an instance in the same workdir (resuming its conversation where the agent can) and wait until it is ready.")
    .argument("<id>", "instance id (see tmux-claude list)")
    .option("--json", "print the instance record as JSON")
    .action(action(restart));
}

async function terminate(cli: Cli, id: string, flags: { cascade?: boolean; json?: boolean }): Promise<number> {
  return cli.withKernel("terminate", async (kernel) => {
    const terminated = await cli.wait(`terminating ${id}...`, kernel.terminate(id, { cascade: flags.cascade ?? false }));
    if (flags.json) cli.json({ terminated });
    else cli.out(`Terminated ${terminated.join(", ")}.`);
    return 0;
  });
}

async function restart(cli: Cli, id: string, flags: { json?: boolean }): Promise<number> {
  return cli.withKernel("restart", async (kernel) => {
    const instance = await cli.wait(`restarting ${id}...`, kernel.restart(id));
    if (flags.json) cli.json(instance);
    else cli.out(`Restarted ${instance.id}; it is ${instance.status}.`);
    return 0;
  });
}
