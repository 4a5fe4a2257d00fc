import { writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import type { Command } from "commander";
import { configTemplate } from "@tmux-claude/core";
import { usageError, type ActionFactory, type Cli } from "../context.js";

export const CONFIG_FILE = "tmuxclaude.config.ts";

export function registerInit(program: Command, action: ActionFactory): void {
  program
    .command("init")
    .description(`Write a ${CONFIG_FILE} with every setting at its default into the current directory.`)
    .option("--force", "overwrite an existing file")
    .action(action(init));
}

async function init(cli: Cli, flags: { force?: boolean }): Promise<number> {
  const file = path.join(cli.io.cwd, CONFIG_FILE);
  try {
    await writeFile(file, configTemplate(), { flag: flags.force ? "w" : "wx" });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") {
      throw usageError(`${file} already exists. Edit it, or run tmux-claude init --force to replace it with the defaults.`, { file });
    }
    throw error;
  }
  cli.out(`Wrote ${file}.`);
  if (!resolvesFrom(cli.io.cwd, "@tmux-claude/core")) {
    // @tmux-claude/core is not on the npm registry: point at the copy this command runs with.
    const core = path.dirname(createRequire(import.meta.url).resolve("@tmux-claude/core/package.json"));
    cli.out(`tmux-claude loads it as is; for type checking in your editor: npm install --save-dev ${core}`);
  }
  cli.out("Check it with: tmux-claude doctor");
  return 0;
}

function resolvesFrom(dir: string, specifier: string): boolean {
  try {
    createRequire(path.join(dir, "noop.js")).resolve(specifier);
    return true;
  } catch {
    return false;
  }
}
