import os from "node:os";

/**
 * The node a kernel's instances live on: this machine and its tmux socket.
 * Stable across restarts of the kernel, so records keep naming it.
 */
export function defaultNodeId(socket: string): string {
  return `${os.hostname()}/${socket}`;
}
