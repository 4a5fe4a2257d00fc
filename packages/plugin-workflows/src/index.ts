/**
 * @tmux-claude/plugin-workflows: YAML orchestrations run on the kernel's
 * public API (see README.md). Being built: see the package README.
 */
export {};
