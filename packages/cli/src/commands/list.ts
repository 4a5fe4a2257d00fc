import os from "node:os";
import { Option, type Command } from "commander";
import { INSTANCE_STATUSES, progressText, shownUsage, type InstanceStatus, type InstanceSummary, type ListColumn } from "@tmux-claude/core";
import { usageError, type ActionFactory, type Cli } from "../context.js";
import { formatAge, statusText, table } from "../output.js";

interface ListFlags {
  role?: string;
  parent?: string;
  status?: InstanceStatus;
  active?: boolean;
  tree?: boolean;
  blocked?: boolean;
  json?: boolean;
}

export function registerList(program: Command, action: ActionFactory): void {
  program
    .command("list")
    .alias("ls")
    .description("List instances: id, role, status, parent, agent, age and workdir.")
    .option("--role <role>", "only instances of this role")
    .option("--parent <id>", "only the children of this instance")
    .addOption(new Option("--status <status>", "only instances in this status").choices(INSTANCE_STATUSES))
    .addOption(new Option("--active", "only instances that have not exited").conflicts("status"))
    .option("--tree", "show the hierarchy as an indented tree")
    .option("--blocked", "only blocked instances (waiting on a question, error, at a usage limit, or stalled), with why; FOR: since its last activity when stalled, else since its last status change")
    .option("--json", "print the instances as a JSON array")
    .action(action(list));
}

async function list(cli: Cli, flags: ListFlags): Promise<number> {
  if (flags.blocked && flags.tree) {
    throw usageError("list --blocked and --tree do not combine: --blocked shows only the blocked instances, each with its parent and why; --tree the whole hierarchy (a stalled one as busy (stalled)). Use one of them.", { flags: ["--blocked", "--tree"] });
  }
  return cli.withKernel("list", async (kernel) => {
    const all = await kernel.list({ role: flags.role, parentId: flags.parent, status: flags.status, ...(flags.blocked ? { blocked: true } : {}) });
    const instances = flags.active ? all.filter((instance) => instance.status !== "exited") : all;
    // The USD is fields.cost's (the cost plugin's, with the config's prices), not the adapter's costUsd.
    if (flags.json) cli.json(instances.map((instance) => (instance.usage ? { ...instance, usage: shownUsage(instance.usage) } : instance)));
    else if (instances.length === 0) cli.out(flags.blocked ? "No blocked instances." : "No instances.");
    else if (flags.blocked) cli.out(formatBlocked(instances, Date.now()));
    else {
      const columns = await kernel.listColumns();
      cli.out(flags.tree ? formatTree(instances, columns) : formatTable(instances, columns, Date.now(), kernel.node));
    }
    return 0;
  });
}

const home = os.homedir();
const shortPath = (dir: string) => (home && (dir === home || dir.startsWith(`${home}/`)) ? `~${dir.slice(home.length)}` : dir);

/** The cells plugins add (their `listColumns`), after the built-in ones. */
const pluginCells = (columns: readonly ListColumn[], instance: InstanceSummary) => columns.map((column) => column.value(instance) ?? "-");

/** An instance whose node is down shows as unreachable: its stored status is only what its node last wrote. */
/** A held one (a budget's pause, the turn cap) shows it: messages to it wait until it is resumed. A warm pool's idle one says so. */
/** A stalled one (a flag, not a status) shows it beside its status. */
const statusOf = (instance: InstanceSummary) =>
  instance.unreachable
    ? "unreachable"
    : `${statusText(instance.status, instance.limitedUntil)}${instance.hold ? " (paused)" : ""}${instance.pooled ? " (pooled)" : ""}${instance.stalled && instance.status === "busy" ? " (stalled)" : ""}`;

/** `list --blocked`: who is blocked, under whom, since when, and why (InstanceSummary.blocked). */
export function formatBlocked(instances: readonly InstanceSummary[], now = Date.now()): string {
  const rows = instances.map((i) => [i.id, i.role, i.parentId ?? "-", formatAge(i.stalled?.since ?? i.updatedAt, now), i.blocked ?? "-"]);
  return table(["ID", "ROLE", "PARENT", "FOR", "WHY"], rows);
}

/** The PROGRESS column ("3/7: Writing tests") right after STATUS, only when some instance reports progress. */
function withProgress(instances: readonly InstanceSummary[], header: string[], rows: string[][], after: number): { header: string[]; rows: string[][] } {
  if (!instances.some((i) => i.progress)) return { header, rows };
  const cell = (i: InstanceSummary) => (i.progress ? progressText(i.progress) : "-");
  return { header: header.toSpliced(after, 0, "PROGRESS"), rows: rows.map((row, n) => row.toSpliced(after, 0, cell(instances[n]!))) };
}

/** `here`: this kernel's node; instances all on it need no NODE column, all on another node do (else they look local). */
export function formatTable(instances: readonly InstanceSummary[], columns: readonly ListColumn[] = [], now = Date.now(), here?: string): string {
  const { header, rows } = withProgress(
    instances,
    ["ID", "ROLE", "STATUS", "PARENT", "AGENT", "AGE", "WORKDIR", ...columns.map((column) => column.header)],
    instances.map((i) => [i.id, i.role, statusOf(i), i.parentId ?? "-", i.agent, formatAge(i.createdAt, now), shortPath(i.workDir), ...pluginCells(columns, i)]),
    3,
  );
  // One node is the usual case, and its name would only repeat on every line.
  const nodes = new Set(instances.map((i) => i.tmux.node));
  if (nodes.size <= 1 && (here === undefined || nodes.has(here))) return table(header, rows);
  return table([...header, "NODE"], rows.map((row, n) => [...row, instances[n]!.tmux.node ?? "-"]));
}

/** Children indented under their parent; an instance whose parent is filtered out is a root. */
export function formatTree(instances: readonly InstanceSummary[], columns: readonly ListColumn[] = [], now = Date.now()): string {
  const byId = new Map(instances.map((i) => [i.id, i]));
  const rows: string[][] = [];
  const order: InstanceSummary[] = [];
  const visit = (instance: InstanceSummary, level: number) => {
    order.push(instance);
    rows.push([`${"  ".repeat(level)}${instance.id}`, instance.role, statusOf(instance), instance.agent, formatAge(instance.createdAt, now), shortPath(instance.workDir), ...pluginCells(columns, instance)]);
    for (const childId of instance.children) {
      const child = byId.get(childId);
      if (child) visit(child, level + 1);
    }
  };
  for (const instance of instances) {
    if (instance.parentId === null || !byId.has(instance.parentId)) visit(instance, 0);
  }
  const shown = withProgress(order, ["ID", "ROLE", "STATUS", "AGENT", "AGE", "WORKDIR", ...columns.map((column) => column.header)], rows, 3);
  return table(shown.header, shown.rows);
}
