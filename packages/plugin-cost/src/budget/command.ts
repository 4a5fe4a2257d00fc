// `tmux-claude budget <id> [--usd N] [--tokens N] [--action A] [--clear] [--json]` and the MCP tool `budget`:
// show a subtree's budget and what it spent, or change it (which resumes a pause it no longer justifies).
import { parseArgs } from "node:util";
import { ErrorCodes, TmuxClaudeError, checkBudget, effectiveBudget, type Budget, type CommandContribution, type KernelApi, type ToolContribution } from "@tmux-claude/core";
import { z } from "zod";
import { formatCount, formatUsd } from "../format.js";
import { subtreeIds } from "../rollup.js";
import type { CostApi } from "../types.js";
import { crossed } from "./check.js";
import type { Budgets } from "./enforce.js";

const USAGE = "Usage: tmux-claude budget <id> [--usd <dollars>] [--tokens <count>] [--action pause|stop|notify] [--clear] [--json]";
const HELP = [
  "The budget of <id>'s subtree (it and every descendant), what it spent and what of it is paused.",
  "  --usd <dollars>     set its budget in US dollars (0 or more)",
  "  --tokens <count>    set its budget in tokens, every kind summed (a whole number, 0 or more)",
  "  --action <action>   what crossing it does: pause (hold the subtree's delivery, tell its parent), stop (terminate it), notify",
  "  --clear             remove its own budget (limits.budget of the config applies again)",
  "  --json              print { id, budget, spent, over?, resumed?, paused } as JSON",
  "Raising a budget resumes what its crossing paused; setting it below what was spent runs its action at once.",
].join("\n");

/** What the command and the tool answer. */
export interface BudgetReport {
  id: string;
  /** The budget bounding its subtree, and where it comes from; null: none. */
  budget: (Budget & { source: string }) | null;
  spent: { tokens: number; usd: number | null };
  /** "12,400 of 10,000 tokens" while at or over it. */
  over?: string;
  /** Instances whose budget pause the change lifted. */
  resumed?: string[];
  /** Instances of the subtree still paused, and why. */
  paused: { id: string; reason: string }[];
}

interface Change {
  budget?: Budget | null;
}

/** Change (when asked) and report one subtree's budget. */
export async function budgetOf(kernel: KernelApi, cost: () => CostApi, budgets: Budgets, id: string, change: Change): Promise<BudgetReport> {
  let resumed: string[] | undefined;
  if (change.budget !== undefined) {
    await kernel.setBudget(id, change.budget);
    resumed = await budgets.recheck(id);
    // Set below what was spent already: its action runs now, not at the next turn.
    await budgets.check(id);
  }
  const instances = await kernel.list();
  const record = instances.find((i) => i.id === id);
  if (!record) throw new TmuxClaudeError(ErrorCodes.INSTANCE_NOT_FOUND, `No instance "${id}". See tmux-claude list.`, { id });
  const bound = effectiveBudget(kernel.config, record);
  const spent = await cost().subtree(id);
  const over = bound ? crossed(bound, spent) : undefined;
  const members = new Set(subtreeIds(instances, id));
  const paused = instances.filter((i) => members.has(i.id) && i.hold).map((i) => ({ id: i.id, reason: i.hold!.reason }));
  return {
    id,
    budget: bound ?? null,
    spent: { tokens: spent.tokens.total, usd: spent.usd ?? null },
    ...(over ? { over } : {}),
    ...(resumed ? { resumed } : {}),
    paused,
  };
}

export function formatBudget(report: BudgetReport): string {
  const b = report.budget;
  const limit = b ? [b.usd !== undefined ? formatUsd(b.usd) : undefined, b.tokens !== undefined ? `${formatCount(b.tokens)} tokens` : undefined].filter(Boolean).join(" and ") : "";
  const lines = [
    b ? `${report.id}'s subtree: budget ${limit}, action ${b.action} (${b.source})` : `${report.id}'s subtree has no budget (limits.budget in the config, or set one: ${USAGE.replace("Usage: ", "")})`,
    `spent: ${formatCount(report.spent.tokens)} tokens, ${formatUsd(report.spent.usd ?? undefined)}${report.over ? ` — over budget: ${report.over}` : ""}`,
  ];
  if (report.resumed?.length) lines.push(`resumed: ${report.resumed.join(", ")}`);
  for (const p of report.paused) lines.push(`paused: ${p.id} (${p.reason})`);
  return lines.join("\n");
}

export function budgetCommand(cost: () => CostApi, budgets: Budgets): CommandContribution {
  return {
    name: "budget",
    description: "Show or change the budget of an instance's subtree (--usd, --tokens, --action, --clear); raising it resumes a budget pause; --json for JSON",
    async run(argv, kernel) {
      // Plugin commands get no commander help: give it here.
      if (argv.includes("--help") || argv.includes("-h")) {
        process.stdout.write(`${USAGE}\n\n${HELP}\n`);
        return 0;
      }
      const { id, change, json } = parseFlags(argv);
      const report = await budgetOf(kernel, cost, budgets, id, change);
      process.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : `${formatBudget(report)}\n`);
      return 0;
    },
  };
}

function parseFlags(argv: string[]): { id: string; change: Change; json: boolean } {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: { usd: { type: "string" }, tokens: { type: "string" }, action: { type: "string" }, clear: { type: "boolean" }, json: { type: "boolean" } },
      strict: true,
      allowPositionals: true,
    });
  } catch (error) {
    throw new TmuxClaudeError(ErrorCodes.INVALID_ARGUMENT, `tmux-claude budget: ${(error as Error).message}. ${USAGE}`, { args: argv });
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1) throw new TmuxClaudeError(ErrorCodes.INVALID_ARGUMENT, `tmux-claude budget takes one instance id, got ${positionals.length ? positionals.join(" ") : "none"}. ${USAGE}`, { args: argv });
  const number = (flag: string, value: string | undefined) => {
    if (value === undefined) return undefined;
    const n = Number(value);
    // A non-number stays as typed: checkBudget names it.
    return value.trim() === "" || Number.isNaN(n) ? (value as unknown as number) : n;
  };
  const given = values.usd !== undefined || values.tokens !== undefined || values.action !== undefined;
  if (values.clear && given) throw new TmuxClaudeError(ErrorCodes.INVALID_ARGUMENT, `tmux-claude budget: --clear removes the budget; give it alone, or --usd/--tokens/--action without it. ${USAGE}`);
  const budget = values.clear
    ? null
    : given
      ? checkBudget(
          Object.fromEntries(Object.entries({ usd: number("--usd", values.usd), tokens: number("--tokens", values.tokens), action: values.action }).filter(([, v]) => v !== undefined)),
          `tmux-claude budget ${positionals[0]}`,
        )
      : undefined;
  return { id: positionals[0]!, change: budget === undefined ? {} : { budget }, json: values.json === true };
}

const budgetInput = z.strictObject({
  instanceId: z.string().min(1).describe("The instance (below you) whose subtree's budget to show or change."),
  usd: z.number().nonnegative().optional().describe("New budget in US dollars, 0 or more."),
  tokens: z.int().nonnegative().optional().describe("New budget in tokens (every kind summed), 0 or more."),
  action: z.enum(["pause", "stop", "notify"]).optional().describe("What happens when it is crossed."),
  clear: z.boolean().optional().describe("Remove the subtree's own budget (the config's limits.budget applies again)."),
});

/** The MCP tool: for a person, or an orchestrator about a subtree strictly below it (an instance may not raise its own budget). */
export function budgetTool(kernel: () => KernelApi, cost: () => CostApi, budgets: Budgets): ToolContribution {
  return {
    name: "budget",
    description:
      "Show or change the budget of the subtree of an instance below you (usd and/or tokens, action pause|stop|notify; clear removes it). Raising it resumes instances its crossing paused. Without usd, tokens, action or clear it only shows the budget, what was spent and what is paused.",
    inputSchema: budgetInput,
    async handler(args, caller) {
      const a = budgetInput.parse(args);
      const k = kernel();
      if (caller.instanceId !== null && (a.instanceId === caller.instanceId || !subtreeIds(await k.list(), caller.instanceId).includes(a.instanceId))) {
        throw new TmuxClaudeError(ErrorCodes.FORBIDDEN, `Instance "${caller.instanceId}" may change only the budgets of instances below it, not "${a.instanceId}".`, { caller: caller.instanceId, target: a.instanceId });
      }
      const given = a.usd !== undefined || a.tokens !== undefined || a.action !== undefined;
      if (a.clear && given) throw new TmuxClaudeError(ErrorCodes.INVALID_ARGUMENT, "clear removes the budget: give it alone, or usd/tokens/action without it.");
      const { instanceId: _id, clear: _clear, ...budget } = a;
      const report = await budgetOf(k, cost, budgets, a.instanceId, a.clear ? { budget: null } : given ? { budget: checkBudget(budget, `the budget of "${a.instanceId}"`) } : {});
      return { text: formatBudget(report), ...report };
    },
  };
}
