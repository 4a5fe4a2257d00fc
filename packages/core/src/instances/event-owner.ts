import { createHash, randomUUID } from "node:crypto";
import { mkdir, readFile, readdir, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { currentProcess, isSameProcess, type ProcessId } from "../os/process-tree.js";

/**
 * Decides which process fires the observed events (statusChange, turnEnded,
 * usage) of a node's instances, so that each change reaches plugins once
 * although every attached process sees it:
 *
 * - a serving kernel (watchAll) fires what it observes: it watches every
 *   instance of its node, so it sees every change;
 * - a one-shot kernel fires only the changes its own write recorded (the
 *   store's update is atomic: of two processes seeing the same change, one
 *   finds it already written), and only while no serving kernel of its node
 *   is alive.
 *
 * A serving kernel announces itself with a file
 * `<stateDir>/serving/<node hash>-<pid>-<uuid>.json` naming its process (pid and
 * start time, so a reused pid does not count); a file of a dead process is
 * ignored and removed.
 */
export class EventOwner {
  private readonly dir: string;
  private readonly prefix: string;
  private file: string | undefined;

  constructor(
    stateDir: string,
    private readonly node: string,
    private readonly serving: boolean,
  ) {
    this.dir = path.join(stateDir, "serving");
    this.prefix = `${createHash("sha256").update(node).digest("hex").slice(0, 16)}-`;
  }

  async start(): Promise<void> {
    if (!this.serving) return;
    const me = await currentProcess();
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    // One file per serving kernel (several may run in one process, e.g. in tests).
    const file = path.join(this.dir, `${this.prefix}${me.pid}-${randomUUID()}.json`);
    await writeFile(`${file}.tmp`, JSON.stringify({ node: this.node, ...me }), { mode: 0o600 });
    await rename(`${file}.tmp`, file);
    this.file = file;
  }

  async stop(): Promise<void> {
    if (this.file) await rm(this.file, { force: true });
    this.file = undefined;
  }

  /** Should this process fire the event of a change? `observed`: seen by its own attachment; `recordedHere`: its write made the change. */
  async shouldFire(change: { observed: boolean; recordedHere: boolean }): Promise<boolean> {
    if (this.serving) return change.observed || change.recordedHere;
    return change.recordedHere && !(await this.servingElsewhere());
  }

  private async servingElsewhere(): Promise<boolean> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    for (const name of names.filter((n) => n.startsWith(this.prefix) && n.endsWith(".json"))) {
      const file = path.join(this.dir, name);
      const owner = await readFile(file, "utf8").then((text) => JSON.parse(text) as ProcessId, () => undefined);
      if (owner && (await isSameProcess(owner))) return true;
      // Left by a serving kernel that died without closing.
      if (owner) await rm(file, { force: true });
    }
    return false;
  }
}
