// What the parts of the plugin share at runtime: the context, the parsed
// options, and the signals one part raises for another.
import type { PluginContext } from "@tmux-claude/core";
import type { GitOptions } from "./options.js";
import type { GitCommands } from "./surfaces/commands.js";
import type { GitInstanceState } from "./types.js";

/** An instance's branch got new commits, or the instance got its branch (spawn). */
export interface BranchChange {
  readonly instanceId: string;
  readonly branch: string;
  /** The branch's commit after the change. */
  readonly commit: string;
  readonly reason: "spawn" | "autoCommit" | "merge";
}

export type BranchListener = (change: BranchChange) => void | Promise<void>;

/**
 * "A branch changed": raised by isolation (a new branch) and auto-commit (a
 * commit at turn end), listened to by the forecaster (and anyone else). A
 * listener's failure is logged; it never fails the raiser.
 */
export class BranchSignal {
  private readonly listeners = new Set<BranchListener>();

  constructor(private readonly ctx: PluginContext) {}

  /** Subscribe; returns the unsubscribe function. */
  on(listener: BranchListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async emit(change: BranchChange): Promise<void> {
    await Promise.all(
      [...this.listeners].map(async (listener) => {
        try {
          await listener(change);
        } catch (error) {
          this.ctx.logger.warn({ err: error, instance: change.instanceId }, "a branch-changed listener failed");
        }
      }),
    );
  }
}

/** One per apply: every part gets it and adds what it offers. */
export interface GitRuntime {
  readonly ctx: PluginContext;
  readonly options: GitOptions;
  readonly branchChanged: BranchSignal;
  /** `tmux-claude git <sub>`: each part registers its subcommands here (see surfaces/commands.ts). */
  readonly commands: GitCommands;
  /**
   * Run before auto-commit commits an instance's worktree; a throw skips that
   * commit (the work stays uncommitted). The merge part finishes an
   * interrupted merge into the instance's branch here, since a commit on top
   * of a half-moved checkout would undo the merge.
   */
  readonly beforeAutoCommit: Set<(state: GitInstanceState) => Promise<void>>;
  /** The git plugin's state on an instance (undefined: it has none: no repository, isolation "none"). */
  state(id: string): Promise<GitInstanceState | undefined>;
}
