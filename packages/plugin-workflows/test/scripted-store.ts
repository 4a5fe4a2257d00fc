// A memory store whose workflow run documents can be scripted: refuse writes
// (a full disk, a lost Redis) or run something just before the next write
// (another process changing the run meanwhile), installed as the kernel's
// store by a plugin (ctx.useStore), as core's store-failure test does.
import { MemoryStore, type Plugin } from "@tmux-claude/core";
import type { PersistedRun } from "../src/index.js";

const RUNS = "workflows/runs";

export class ScriptedStore extends MemoryStore {
  /** Refuse the run document writes it picks (given the next value), while set. */
  refuses: ((next: PersistedRun) => boolean) | undefined;
  refused = 0;
  /** Run once before the next run document write (then cleared). */
  beforeNextRunWrite: ((store: ScriptedStore, key: string) => Promise<void>) | undefined;

  override async updateDoc<T = unknown>(collection: string, key: string, updater: (current: T | undefined) => T | undefined): Promise<T | undefined> {
    if (collection !== RUNS) return super.updateDoc(collection, key, updater);
    const before = this.beforeNextRunWrite;
    this.beforeNextRunWrite = undefined;
    await before?.(this, key);
    const refuses = this.refuses;
    if (refuses) {
      const next = updater((await this.getDoc(collection, key)) as T | undefined) as PersistedRun | undefined;
      if (next && refuses(next)) {
        this.refused++;
        throw new Error("ENOSPC: no space left on device (scripted)");
      }
    }
    return super.updateDoc(collection, key, updater);
  }

  /** Change a run document as another process would, past the scripting. */
  changeRun(key: string, change: (run: PersistedRun) => PersistedRun): Promise<unknown> {
    return super.updateDoc<PersistedRun>(RUNS, key, (run) => (run ? change(run) : run));
  }

  plugin(): Plugin {
    return { name: "scripted-store", apply: (ctx) => ctx.useStore(this) };
  }
}
