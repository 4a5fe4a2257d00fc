import type { Command } from "commander";
import { Kernel } from "@tmux-claude/core";
import { pluginOperation, recorded } from "../audit-trail.js";
import { CLI_PLUGIN_COMMANDS, CLI_PLUGINS, type Cli } from "../context.js";

/**
 * Register the CLI commands plugins contribute (`kernel.commands()`). Only
 * called when the command name is not a built-in one, so ordinary commands
 * never start a kernel twice. Returns the kernel the commands run with (the
 * caller closes it), or undefined when the config has no plugins.
 */
export async function registerPluginCommands(
  program: Command,
  cli: Cli,
  commandName: string,
  rawArgs: readonly string[],
  setExitCode: (code: number) => void,
): Promise<Kernel | undefined> {
  const { config, filepath } = await cli.loadConfig(commandName);
  // Of the plugins the CLI itself adds only cost contributes a command: without plugins of the user's, no kernel (and no tmux server) starts for another name.
  if (config.plugins.every((plugin) => CLI_PLUGINS.has(plugin.name)) && !CLI_PLUGIN_COMMANDS.has(commandName)) return undefined;
  const starting = Kernel.start({ config, configPath: filepath, watch: "on-demand", logger: cli.logger(config, true) });
  const kernel = await cli.interruptible(starting, () => void starting.then((late) => late.close()).catch(() => undefined));
  for (const contribution of await kernel.commands()) {
    program
      .command(contribution.name)
      .description(`${contribution.description} (from a plugin)`)
      .helpOption(false)
      .allowUnknownOption()
      .allowExcessArguments()
      .argument("[args...]")
      // The plugin parses its own arguments: it gets them exactly as typed.
      .action(async () => setExitCode(await recorded(cli, pluginOperation(contribution, rawArgs), () => cli.interruptible(contribution.run([...rawArgs], kernel)))));
  }
  return kernel;
}
