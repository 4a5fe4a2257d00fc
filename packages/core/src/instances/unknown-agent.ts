// Serve meets an instance whose agent its config does not define: another
// process, with a newer config, spawned it (an agent added after serve
// started). Serve cannot attach to it (no settings for its agent), so it
// neither watches it nor delivers its queue: said loudly, once per instance,
// with whether the config file changed since serve loaded it (the fix is a
// restart of serve).
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { InstanceRecord } from "../store/types.js";
import type { ManagerDeps } from "./deps.js";

export class UnknownAgents {
  private readonly warned = new Set<string>();
  /** The config file's contents when this kernel started (read then: the config was loaded just before). */
  private loaded: string | undefined;

  constructor(private readonly deps: Pick<ManagerDeps, "config" | "configPath" | "logger">) {}

  async start(): Promise<void> {
    this.loaded = await this.digest();
  }

  /** Is `record`'s agent unknown here? Then it was said (once). */
  async check(record: InstanceRecord): Promise<boolean> {
    if (this.deps.config.agents[record.agent]) return false;
    if (this.warned.has(record.id)) return true;
    this.warned.add(record.id);
    const { configPath } = this.deps;
    const now = await this.digest();
    const stale = configPath && this.loaded !== undefined && now !== this.loaded;
    const why = stale
      ? `${configPath} changed since this serve loaded it: restart tmux-claude serve to load it`
      : `its config${configPath ? ` (${configPath})` : ""} does not define agent "${record.agent}" (the process that spawned it used another config): serve it with that config`;
    this.deps.logger.warn(
      { instance: record.id, agent: record.agent, known: Object.keys(this.deps.config.agents), config: configPath, stale: Boolean(stale) },
      `serve cannot watch ${record.id}: ${why}. Until then only the processes attached to it (the one that spawned it) see its status and turn ends.`,
    );
    return true;
  }

  private async digest(): Promise<string | undefined> {
    if (!this.deps.configPath) return undefined;
    const text = await readFile(this.deps.configPath).catch(() => undefined);
    return text && createHash("sha256").update(text).digest("hex");
  }
}
