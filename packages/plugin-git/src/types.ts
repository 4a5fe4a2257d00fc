// The shapes the parts of this plugin share: what it keeps on each instance
// (ctx.state), and how a forecast or a merge describes a conflict.

/** How an instance works in its repository (per role, or per spawn with `--plugin git.isolation=...`). */
export type Isolation = "worktree" | "shared" | "none";

/** The git plugin's persisted state on one instance (`pluginState.git`, through `ctx.state(id)`). */
export interface GitInstanceState {
  readonly isolation: Isolation;
  /** The main repository's top level (`git rev-parse --show-toplevel` of the main worktree). */
  readonly repo: string;
  /** Where the instance works: its own worktree, or the shared checkout. */
  readonly worktree: string;
  /** The instance's branch (`tc/<id>` by default); the branch of the shared checkout when shared. */
  readonly branch: string;
  /** The branch it was created from and merges back into: its parent's branch, or the repo's current branch / baseRef. */
  readonly base: string;
  /** The commit of `base` when the worktree was made. */
  readonly baseCommit: string;
  /** ISO time the worktree was made. */
  readonly createdAt: string;
  /** Commit this instance's changes at each turn end (spawn > role > plugin option). */
  readonly autoCommit?: boolean;
  /**
   * Set when the checkout the branch started from (the parent's, or the one
   * spawned in) had uncommitted changes: the branch starts from its last
   * commit and does not include them.
   */
  readonly uncommittedLeftOut?: UncommittedLeftOut;
  /** The last conflict forecast of this instance's branch (forecast/): what `git_status` shows, and what is not announced again. */
  readonly forecast?: InstanceForecast;
}

/** Uncommitted changes a new branch did not take from the checkout it started from. */
export interface UncommittedLeftOut {
  readonly checkout: string;
  readonly count: number;
  /** The first 20 of them. */
  readonly paths: readonly string[];
}

/** A conflicted path as a forecast names it. */
export interface ForecastFile {
  readonly path: string;
  readonly kind: ConflictKind;
}

/** This branch against one other branch: conflicting files, empty when they merge cleanly. */
export interface ForecastPair {
  readonly branch: string;
  /** The other branch's commit the forecast was made against. */
  readonly commit: string;
  readonly files: readonly ForecastFile[];
}

/** The last forecast of an instance's branch: against its target (`base`) and against each sibling it conflicts with. */
export interface InstanceForecast {
  /** ISO time it was computed. */
  readonly at: string;
  /** The instance's branch commit it was computed for. */
  readonly commit: string;
  readonly target: ForecastPair;
  /** Only the siblings it conflicts with, by instance id. */
  readonly siblings: Readonly<Record<string, ForecastPair>>;
}

/** How two sides of a merge disagree on one path, as `git merge-tree --write-tree` reports it. */
export type ConflictKind = "content" | "add/add" | "modify/delete" | "rename/modify" | "rename/rename" | "binary" | "file/directory" | "other";

export interface ConflictFile {
  readonly path: string;
  readonly kind: ConflictKind;
  /** git's own message about this path (`CONFLICT (content): Merge conflict in a.txt`). */
  readonly message: string;
  /** The conflicted text with markers, for a text file with a content conflict. */
  readonly hunks?: string;
  /** The path's index stages as git left them: base (1), ours (2), theirs (3); a side that lacks the path has none. */
  readonly stages?: { readonly base?: ConflictStage; readonly ours?: ConflictStage; readonly theirs?: ConflictStage };
}

/** One side of a conflicted path: its file mode and blob. */
export interface ConflictStage {
  readonly mode: string;
  readonly oid: string;
}
