/** This kernel's version (the @tmux-claude/core package's; a test keeps them equal). Plugins' `kernel` ranges are checked against it. */
export const KERNEL_VERSION = "0.1.0";
