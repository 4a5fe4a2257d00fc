import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import path from "node:path";

/**
 * Find an agent's program the way execvp would, so a missing program is a
 * clear error before any tmux session exists.
 */
export async function resolveCommand(command: string, env: NodeJS.ProcessEnv, cwd: string): Promise<string | undefined> {
  if (command.includes("/")) {
    const candidate = path.resolve(cwd, command);
    return (await isExecutableFile(candidate)) ? candidate : undefined;
  }
  for (const dir of (env.PATH ?? "").split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, command);
    if (await isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

async function isExecutableFile(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}
