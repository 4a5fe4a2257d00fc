import { spawn } from "node:child_process";
import type { Logger } from "@tmux-claude/core";

/** Open a URL in the user's browser: argv, no shell; a failure is a warning, never fatal. */
export function openBrowser(url: string, logger: Logger): void {
  const command = process.platform === "darwin" ? "open" : process.platform === "win32" ? "explorer.exe" : "xdg-open";
  const warn = (reason: string) => logger.warn(`dashboard: could not open the browser with ${command} (${reason}); open the printed URL yourself`);
  try {
    const child = spawn(command, [url], { stdio: "ignore", detached: true });
    child.once("error", (error) => warn(error.message));
    child.once("exit", (code) => {
      if (code) warn(`exit code ${code}`);
    });
    child.unref();
  } catch (error) {
    warn(error instanceof Error ? error.message : String(error));
  }
}
