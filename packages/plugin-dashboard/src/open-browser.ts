import { spawn } from "node:child_process";

/** Open a URL in the user's browser: argv, no shell; a failure is a warning (`warn`), never fatal. */
export function openBrowser(url: string, warn: (message: string) => void): void {
  const command = process.platform === "darwin" ? "open" : "xdg-open";
  const fail = (reason: string) => warn(`Could not open the browser with ${command} (${reason}); open the printed URL yourself.`);
  try {
    const child = spawn(command, [url], { stdio: "ignore", detached: true });
    child.once("error", (error) => fail(error.message));
    child.once("exit", (code) => {
      if (code) fail(`exit code ${code}`);
    });
    child.unref();
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
}
