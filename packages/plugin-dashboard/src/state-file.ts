// `<stateDir>/dashboard.json`: where a running dashboard listens, so
// `tmux-claude monitor` can print its login URL (like `jupyter server list`).
// The secret is in its own file, `dashboard.token`, readable only by the user.
import { readFileSync, unlinkSync } from "node:fs";
import { mkdir, readFile, rename, unlink, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import path from "node:path";
import { isProcessAlive } from "@tmux-claude/core";
import { localTarget } from "./options.js";

export const DASHBOARD_FILE = "dashboard.json";
export const TOKEN_FILE = "dashboard.token";
/** The redirect page `--open` hands the browser (it holds the secret too); see open-browser.ts. */
export const OPEN_FILE = "dashboard-open.html";

export interface DashboardInfo {
  pid: number;
  host: string;
  port: number;
  /** The page's origin, without the secret. */
  url: string;
  /** The file holding the secret (mode 0600). */
  tokenFile: string;
  startedAt: string;
}

export async function writeDashboardInfo(stateDir: string, info: Omit<DashboardInfo, "tokenFile">, secret: string): Promise<DashboardInfo> {
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const tokenFile = path.join(stateDir, TOKEN_FILE);
  const full: DashboardInfo = { ...info, tokenFile };
  await writeAtomic(tokenFile, `${secret}\n`);
  await writeAtomic(path.join(stateDir, DASHBOARD_FILE), `${JSON.stringify(full, null, 2)}\n`);
  return full;
}

/** Written whole or not at all, mode 0600. */
export async function writeAtomic(file: string, text: string): Promise<void> {
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, text, { mode: 0o600 });
  await rename(temp, file);
}

/** The running dashboard of this state dir, with its secret; undefined when none runs (a file left by a dead process counts as none). */
export async function readDashboardInfo(stateDir: string): Promise<(DashboardInfo & { secret: string }) | undefined> {
  try {
    const info = JSON.parse(await readFile(path.join(stateDir, DASHBOARD_FILE), "utf8")) as DashboardInfo;
    if (!Number.isInteger(info.pid) || !isProcessAlive(info.pid) || !(await answers(info.host, info.port))) return undefined;
    const secret = (await readFile(info.tokenFile, "utf8")).trim();
    return { ...info, secret };
  } catch {
    return undefined;
  }
}

/** Remove the files if they are still ours (a newer dashboard may have replaced them). */
export async function removeDashboardInfo(stateDir: string, pid: number): Promise<void> {
  const file = path.join(stateDir, DASHBOARD_FILE);
  try {
    if ((JSON.parse(await readFile(file, "utf8")) as DashboardInfo).pid !== pid) return;
  } catch {
    return;
  }
  await unlink(file).catch(() => undefined);
  await unlink(path.join(stateDir, TOKEN_FILE)).catch(() => undefined);
  await unlink(path.join(stateDir, OPEN_FILE)).catch(() => undefined);
}

/** For process exit, where nothing async runs. */
export function removeDashboardInfoSync(stateDir: string, pid: number): void {
  const file = path.join(stateDir, DASHBOARD_FILE);
  try {
    if ((JSON.parse(readFileSync(file, "utf8")) as DashboardInfo).pid !== pid) return;
    for (const name of [DASHBOARD_FILE, TOKEN_FILE, OPEN_FILE]) {
      try {
        unlinkSync(path.join(stateDir, name));
      } catch {
        // already gone (the open page exists only after --open)
      }
    }
  } catch {
    // not ours, or already gone
  }
}


/** How long a local connect may take before the port counts as dead: loopback answers at once or refuses. */
const CONNECT_TIMEOUT_MS = 1_000;

/**
 * Whether something listens on the dashboard's port: a killed dashboard can
 * linger as a zombie (its pid still "alive") for a moment after its socket closed.
 */
function answers(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: localTarget(host), port });
    const done = (alive: boolean) => {
      socket.destroy();
      resolve(alive);
    };
    socket.setTimeout(CONNECT_TIMEOUT_MS, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}
