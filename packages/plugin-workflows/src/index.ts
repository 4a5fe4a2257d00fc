/**
 * @tmux-claude/plugin-workflows: YAML orchestrations run on the kernel's
 * public API (see README.md). Being built: the shapes the parts agree on are
 * in types.ts.
 */
export type * from "./types.js";
