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
 *   that can watch the instance is alive.
 *
 * A turn's end is more than a change to show: a workflow's task completes
 * with it, git commits at it. Serve may start watching a new instance only
 * after its first turn ended (a one-shot `run` spawned it and typed a command
 * that returned at once): it never sees that turn. So a one-shot kernel that
 * records a turn's end also marks it pending on the record, in the same
 * atomic write (InstanceRecord.turnEnd), and whoever announces it removes the
 * mark in an atomic write, announcing only when it did the removing:
 *
 * - the one-shot kernel itself, when no serving kernel may watch the instance;
 * - else serve: when it sees the same turn end (the store already holds it,
 *   with the mark), or when it finds a mark on attaching or on a change of the
 *   record (a turn it never saw). A turn end serve sees that the store holds
 *   with no mark was announced already (by a one-shot kernel that found no
 *   serve), and is not announced again.
 *
 * A serving kernel announces itself with a file
 * `<stateDir>/serving/<node hash>-<pid>-<uuid>.json` naming its process (pid and
 * start time, so a reused pid does not count) and the agents its config
 * defines; a file of a dead process is ignored and removed. A serve whose
 * config does not define an instance's agent cannot attach to it (it has no
 * adapter settings for it: an agent added to the config after serve started),
 * so it never sees that instance's changes: the one-shot kernel that recorded
 * them fires them, or nobody would (a workflow waiting for a turn's end hung).
 */
export class EventOwner {
  private readonly dir: string;
  private readonly prefix: string;
  private file: string | undefined;

  constructor(
    stateDir: string,
    private readonly node: string,
    private readonly serving: boolean,
    /** The agents this kernel's config defines (a serving kernel attaches only to their instances). */
    private readonly agents: readonly string[] = [],
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
    await writeFile(`${file}.tmp`, JSON.stringify({ node: this.node, ...me, agents: this.agents }), { mode: 0o600 });
    await rename(`${file}.tmp`, file);
    this.file = file;
  }

  async stop(): Promise<void> {
    if (this.file) await rm(this.file, { force: true });
    this.file = undefined;
  }

  /**
   * Should this process fire the event of a change of an instance running `agent`? `observed`: seen by its own
   * attachment; `recordedHere`: its write made the change; `claimed`: it removed the change's pending turn-end mark.
   * A one-shot kernel fires a turn end only once it also claimed its mark (see the class's comment).
   */
  async shouldFire(change: { observed: boolean; recordedHere: boolean; claimed?: boolean; turn?: boolean }, agent: string): Promise<boolean> {
    if (this.serving) return change.recordedHere || change.claimed === true || (!change.turn && change.observed);
    return change.recordedHere && !(await this.servingElsewhere(agent));
  }

  /** Is this process the one to act on the node's instances of `agent` (serve, or any process while no serve watches them)? */
  async owns(agent: string): Promise<boolean> {
    return this.serving || !(await this.servingElsewhere(agent));
  }

  get isServing(): boolean {
    return this.serving;
  }

  /** Does a live serving kernel of this node watch instances of `agent`? */
  private async servingElsewhere(agent: string): Promise<boolean> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    for (const name of names.filter((n) => n.startsWith(this.prefix) && n.endsWith(".json"))) {
      const file = path.join(this.dir, name);
      const owner = await readFile(file, "utf8").then((text) => JSON.parse(text) as ProcessId & { agents?: unknown }, () => undefined);
      if (owner && (await isSameProcess(owner))) {
        // A file without the list (an older serve) is taken to know every agent, as before.
        if (!Array.isArray(owner.agents) || owner.agents.includes(agent)) return true;
        continue;
      }
      // Left by a serving kernel that died without closing.
      if (owner) await rm(file, { force: true });
    }
    return false;
  }
}
