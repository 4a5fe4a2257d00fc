/**
 * `tmux-claude nodes [--json]`: every node of the prefix, its state, its
 * instances and their load, from one heartbeat read and one list.
 */
import { parseArgs } from "node:util";
import { ErrorCodes, TmuxClaudeError, type CommandContribution, type InstanceSummary, type KernelApi } from "@tmux-claude/core";
import type { NodeInfo } from "./registry.js";

/** A node as `nodes` shows it: its heartbeat's state, and its instances that have not exited. */
export interface NodeView {
  readonly id: string;
  /** `unknown`: instances name the node but no `serve` of it ever registered on this Redis prefix. */
  readonly state: NodeInfo["state"] | "unknown";
  readonly reason?: string;
  readonly host?: string;
  readonly pid?: number;
  readonly startedAt?: string;
  readonly stoppedAt?: string;
  /** Ids of its instances that have not exited. */
  readonly instances: string[];
  /** Its instances that have not exited (what least-loaded placement compares), and of those the busy ones. */
  readonly load: { readonly instances: number; readonly busy: number };
  /** This is the node of the kernel that answers. */
  readonly self: boolean;
}

/** The nodes the registry knows, and the nodes instances name, with their instances. */
export function nodeViews(nodes: readonly NodeInfo[], instances: readonly InstanceSummary[], self: string): NodeView[] {
  const live = instances.filter((instance) => instance.status !== "exited");
  const ids = new Set([...nodes.map((node) => node.id), ...live.map((instance) => instance.tmux.node!)]);
  return [...ids].sort().map((id) => {
    const mine = live.filter((instance) => instance.tmux.node === id);
    const info = nodes.find((node) => node.id === id);
    return {
      ...(info ?? { id, state: "unknown" as const }),
      instances: mine.map((instance) => instance.id),
      load: { instances: mine.length, busy: mine.filter((instance) => instance.status === "busy").length },
      self: id === self,
    };
  });
}

export function formatNodes(views: readonly NodeView[]): string {
  if (views.length === 0) return "No nodes: none has run `tmux-claude serve` on this Redis prefix yet.";
  const rows = views.map((view) => [
    `${view.id}${view.self ? " *" : ""}`,
    view.state,
    String(view.load.instances),
    String(view.load.busy),
    view.host ?? "-",
    view.pid === undefined ? "-" : String(view.pid),
    view.stoppedAt ?? view.startedAt ?? "-",
  ]);
  const header = ["NODE", "STATE", "INSTANCES", "BUSY", "HOST", "PID", "SINCE"];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: readonly string[]) => cells.map((cell, column) => cell.padEnd(widths[column]!)).join("  ").trimEnd();
  return [line(header), ...rows.map(line), "(* this node)"].join("\n");
}

/** The `nodes` command: reads the registry when run, prints to stdout. */
export function nodesCommand(nodes: () => Promise<NodeInfo[]>): CommandContribution {
  return {
    name: "nodes",
    description: "List the nodes sharing this Redis (live, lost, stopped), their instances and load; --json for JSON",
    async run(argv: string[], kernel: KernelApi): Promise<number> {
      const json = parseFlags(argv);
      const views = nodeViews(await nodes(), await kernel.list(), kernel.node);
      process.stdout.write(json ? `${JSON.stringify(views, null, 2)}\n` : `${formatNodes(views)}\n`);
      return 0;
    },
  };
}

function parseFlags(argv: string[]): boolean {
  try {
    return parseArgs({ args: argv, options: { json: { type: "boolean" } }, strict: true, allowPositionals: false }).values.json === true;
  } catch (error) {
    throw new TmuxClaudeError(ErrorCodes.INVALID_ARGUMENT, `tmux-claude nodes: ${(error as Error).message}. Usage: tmux-claude nodes [--json]`, { args: argv });
  }
}
