/**
 * `tmux-claude cost [id] [--tree] [--json]`: tokens by kind and model, and
 * USD, per instance (with `--tree`, each one's subtree too), their total, each
 * workflow run's, and the price table's date.
 */
import { parseArgs } from "node:util";
import { ErrorCodes, TmuxClaudeError, type CommandContribution } from "@tmux-claude/core";
import { formatCost, formatCount, table } from "./format.js";
import type { CostNode, CostPluginApi } from "./plugin.js";
import { subtreeIds } from "./rollup.js";
import { priceHint } from "./pricing.js";
import type { InstanceCost, RunCost } from "./types.js";

const USAGE = "Usage: tmux-claude cost [id] [--tree] [--json]";
const HELP = [
  "Tokens by kind (input, output, cache write, cache read) and model, and their USD, per instance; the total; each workflow run's.",
  "  id      only this instance (with --tree: it and its descendants)",
  "  --tree  indent the hierarchy and add each instance's subtree sum",
  "  --json  print the report as JSON (a model without a price has usd null; sums say partial, unpriced and unpricedTokens)",
  "Prices: the shipped table (its date is printed), overridden by cost({ prices }) in the config.",
  "A USD marked partial leaves out tokens without a price (listed under the table, with the price to add).",
].join("\n");

/** One row of the report: the instance's own cost, its place in the tree, and with --tree its subtree's. */
export interface CostRow extends InstanceCost {
  parentId: string | null;
  depth: number;
  /** "terminated" for an instance whose record is gone (its cost from the ledger). */
  status: string;
  terminated?: true;
  subtree?: Omit<InstanceCost, "id">;
}

/** What `cost --json` prints. */
export interface CostReport {
  /** The shipped price table's date. */
  pricesAsOf: string;
  /** Models whose prices the config set. */
  pricesOverridden: string[];
  instances: CostRow[];
  /** The shown instances summed (each counted once). */
  total: Omit<InstanceCost, "id">;
  /** Each workflow run's cost (without an id; only with the workflows plugin). */
  runs?: RunCost[];
}

export function costCommand(api: CostPluginApi, overridden: readonly string[]): CommandContribution {
  return {
    name: "cost",
    description: "Tokens by kind and model and their USD per instance (--tree: with each subtree's sum), the total and each workflow run's; --json for JSON",
    async run(argv) {
      if (argv.includes("--help") || argv.includes("-h")) {
        process.stdout.write(`${USAGE}\n\n${HELP}\n`);
        return 0;
      }
      const flags = parseFlags(argv);
      const report = await costReport(api, overridden, flags);
      process.stdout.write(flags.json ? `${reportJson(report)}\n` : `${formatReport(report, flags.tree)}\n`);
      return 0;
    },
    // For the audit log: the instance it reports on, when the arguments parse.
    invocation(argv) {
      try {
        const { id } = parseFlags([...argv]);
        return id !== undefined ? { target: id } : {};
      } catch {
        return {};
      }
    },
  };
}

interface Flags {
  id?: string;
  tree: boolean;
  json: boolean;
}

function parseFlags(argv: string[]): Flags {
  try {
    const { values, positionals } = parseArgs({ args: argv, options: { tree: { type: "boolean" }, json: { type: "boolean" } }, strict: true, allowPositionals: true });
    if (positionals.length > 1) throw new Error(`one instance id at most, got ${positionals.join(" ")}`);
    return { ...(positionals[0] !== undefined ? { id: positionals[0] } : {}), tree: values.tree === true, json: values.json === true };
  } catch (error) {
    throw new TmuxClaudeError(ErrorCodes.INVALID_ARGUMENT, `tmux-claude cost: ${(error as Error).message}. ${USAGE}`, { args: argv });
  }
}

export async function costReport(api: CostPluginApi, overridden: readonly string[], flags: Omit<Flags, "json">): Promise<CostReport> {
  const { instances, costs } = await api.all();
  const byId = new Map(instances.map((instance) => [instance.id, instance]));
  // Parents before children, as list --tree shows them; an instance whose parent is not known (record and ledger entry gone) starts a tree.
  const roots = flags.id !== undefined ? [flags.id] : instances.filter((i) => i.parentId === null || !byId.has(i.parentId)).map((i) => i.id);
  const shown = flags.id !== undefined && !flags.tree ? subtreeIds(instances, flags.id).slice(0, 1) : roots.flatMap((root) => subtreeIds(instances, root));
  const rows = shown.map((id) => row(api, instances, byId.get(id)!, costs, flags.tree));
  const { id: _total, ...total } = api.combine("total", shown.map((id) => costs.get(id)!));
  const runs = flags.id === undefined ? await api.runs() : [];
  return { pricesAsOf: api.prices().asOf, pricesOverridden: [...overridden], instances: rows, total, ...(runs.length ? { runs } : {}) };
}

function row(api: CostPluginApi, instances: readonly CostNode[], instance: CostNode, costs: ReadonlyMap<string, InstanceCost>, tree: boolean): CostRow {
  const own = costs.get(instance.id)!;
  const base = { ...own, parentId: instance.parentId, depth: instance.depth, status: instance.status, ...(instance.terminated ? { terminated: instance.terminated } : {}) };
  if (!tree) return base;
  const { id: _id, ...subtree } = api.combine(instance.id, subtreeIds(instances, instance.id).map((id) => costs.get(id)!));
  return { ...base, subtree };
}

/** The report as JSON (an unpriced model's usd is null in the data itself, as in read/list --json and MCP). */
export function reportJson(report: CostReport): string {
  return JSON.stringify(report, null, 2);
}

export function formatReport(report: CostReport, tree: boolean): string {
  const minDepth = Math.min(...report.instances.map((r) => r.depth));
  const cells = (c: Omit<InstanceCost, "id">) => [formatCount(c.tokens.input), formatCount(c.tokens.output), formatCount(c.tokens.cacheWrite), formatCount(c.tokens.cacheRead), formatCount(c.tokens.total), formatCost(c)];
  const models = (c: Omit<InstanceCost, "id">) => (c.models.length ? c.models.map((m) => m.model).join(", ") : "-");
  const header = ["ID", "STATUS", "INPUT", "OUTPUT", "CACHE WRITE", "CACHE READ", "TOTAL", "USD", ...(tree ? ["SUBTREE TOKENS", "SUBTREE USD"] : []), "MODELS"];
  const rows = report.instances.map((r) => [
    `${tree ? "  ".repeat(r.depth - minDepth) : ""}${r.id}`,
    r.status,
    ...cells(r),
    ...(r.subtree ? [formatCount(r.subtree.tokens.total), formatCost(r.subtree)] : []),
    models(r),
  ]);
  rows.push(["TOTAL", "", ...cells(report.total), ...(tree ? ["", ""] : []), models(report.total)]);
  const lines = [report.instances.length ? table(header, rows) : "No instances."];
  if (report.runs?.length) {
    lines.push("", table(["RUN", "STATE", "INSTANCES", "TOKENS", "USD"], report.runs.map((run) => [run.run, run.state, String(run.instances.length), formatCount(run.tokens.total), formatCost(run)])));
  }
  if (report.total.partial) {
    lines.push("", `USD partial: ${formatCount(report.total.unpricedTokens)} tokens have no price (${report.total.unpriced.join(", ")}); they are counted, the USD shown leaves them out. ${priceHint(report.total.unpriced)}`);
  }
  const overrides = report.pricesOverridden.length ? `; the config sets ${report.pricesOverridden.join(", ")}` : "";
  lines.push("", `Prices in USD per million tokens: the shipped table of ${report.pricesAsOf}${overrides}.`);
  return lines.join("\n");
}
