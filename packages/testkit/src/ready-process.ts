import { spawn } from "node:child_process";
import { createInterface } from "node:readline";

export interface ReadyProcess {
  /** SIGKILL (a real kill -9: nothing of the process runs after it) and wait for its exit. */
  kill(): Promise<void>;
}

/**
 * Run a Node script in its own process (a serving kernel a test kills with
 * -9) and resolve once it printed its first line on stdout, its sign that it
 * is ready; reject if it exits before. Its stderr goes to the test's.
 */
export async function startReadyProcess(script: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<ReadyProcess> {
  const child = spawn(process.execPath, [script, ...args], { stdio: ["ignore", "pipe", "inherit"], env });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout }).once("line", () => resolve());
    child.once("exit", (code) => reject(new Error(`${script} exited before it was ready (${code})`)));
  });
  return {
    async kill() {
      child.kill("SIGKILL");
      await exited;
    },
  };
}
