// `--open` / `open: true`: the browser gets the login URL without the secret
// ever being on a command line (any local user can read argv with `ps`). Like
// Jupyter, a redirect page holding the URL is written to the state dir, only
// the user can read it, and the opener gets its `file://` URL.
import { spawn } from "node:child_process";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { OPEN_FILE, writeAtomic } from "./state-file.js";

/**
 * Open the login URL in the user's browser through a redirect file; a failure
 * is a warning (`warn`), never fatal, and the promise never rejects.
 * `command` is the opener (xdg-open, macOS open); tests pass their own.
 */
export async function openBrowser(loginUrl: string, stateDir: string, warn: (message: string) => void, command = process.platform === "darwin" ? "open" : "xdg-open"): Promise<void> {
  const fail = (reason: string) => warn(`Could not open the browser with ${command} (${reason}); open the printed URL yourself.`);
  let page: string;
  try {
    page = await writeRedirectPage(stateDir, loginUrl);
  } catch (error) {
    return fail(`writing ${path.join(stateDir, OPEN_FILE)} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  try {
    const child = spawn(command, [pathToFileURL(page).href], { stdio: "ignore", detached: true });
    child.once("error", (error) => fail(error.message));
    child.once("exit", (code) => {
      if (code) fail(`exit code ${code}`);
    });
    child.unref();
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
}

async function writeRedirectPage(stateDir: string, loginUrl: string): Promise<string> {
  const file = path.join(stateDir, OPEN_FILE);
  const href = escapeHtml(loginUrl);
  // Opened from file://, never served by the dashboard, so its CSP does not apply and a meta refresh works.
  const html = `<!doctype html>\n<html><head><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=${href}"><title>tmux-claude dashboard</title></head>\n<body><p><a href="${href}">Open the tmux-claude dashboard</a></p></body></html>\n`;
  await writeAtomic(file, html);
  return file;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/gu, (char) => `&#${char.charCodeAt(0)};`);
}
