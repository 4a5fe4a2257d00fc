// `cost(options)`: the plugin factory. Written by hand (not definePlugin)
// because its `api` is handed out before `apply` runs and reaches the kernel
// it gets there.
import { PRICES, PRICES_AS_OF } from "@tmux-claude/agent-claude";
import { parsePluginOptions, type InstanceStatus, type Plugin, type PluginContext, type TokenUsage } from "@tmux-claude/core";
import { z } from "zod";
import { costCommand } from "./command.js";
import { costLine, formatCost } from "./format.js";
import { Pricer } from "./pricing.js";
import { Ledger, type LedgerEntry } from "./ledger.js";
import { runIds, subtreeIds, type RollupNode, type RunSource } from "./rollup.js";
import type { CostApi, InstanceCost, Price, RunCost, SubtreeCost } from "./types.js";

export const PLUGIN_NAME = "cost";

/** USD per million tokens: a finite number, 0 or more. */
const usd = z.number().finite().nonnegative();
const ratesSchema = z.strictObject({ input: usd, output: usd, cacheWrite: usd, cacheRead: usd });
/** `longContext`: the rates of requests over 200K input tokens; without them such tokens are unpriced (the USD shown as partial). */
const priceSchema = ratesSchema.extend({ longContext: ratesSchema.optional() });

export const costOptionsSchema = z.strictObject({
  /**
   * Prices that replace or add to the shipped table, by model id as the API
   * names it without its date (`claude-sonnet-4-5`), or a full id for that
   * one model; USD per million tokens of each kind.
   */
  prices: z.record(z.string().min(1), priceSchema).optional(),
});

export type CostOptions = z.input<typeof costOptionsSchema>;

/** An instance as the roll-ups see it: its record's, or (terminated) its ledger entry's. */
export interface CostNode extends RollupNode {
  depth: number;
  status: InstanceStatus | "terminated";
  usage: TokenUsage | undefined;
  terminated?: true;
}

/** What the plugin's api offers besides CostApi: every instance's cost at once (the command). */
export interface CostPluginApi extends CostApi {
  /** Every instance (exited ones while their records exist, terminated ones while the ledger keeps them), and each one's cost, from one list. */
  all(): Promise<{ instances: CostNode[]; costs: Map<string, InstanceCost> }>;
  /** The cost of some of those instances as one. */
  combine(id: string, parts: readonly InstanceCost[]): InstanceCost;
  /** Each workflow run's cost, newest first; empty without the workflows plugin. */
  runs(): Promise<RunCost[]>;
}

export function cost(userOptions: CostOptions = {}): Plugin<CostPluginApi> {
  const options = parsePluginOptions(PLUGIN_NAME, costOptionsSchema, userOptions);
  const table: Record<string, Price> = { ...PRICES, ...options.prices };
  let applied: { ctx: PluginContext; pricer: Pricer; ledger: Ledger } | undefined;
  const parts = () => {
    if (!applied) throw new Error("The cost plugin is not applied yet: use its api from a hook (init or later) or a command.");
    return applied;
  };
  const all = async () => {
    const { ctx, pricer, ledger } = parts();
    const [listed, entries] = await Promise.all([ctx.kernel.list(), ledger.entries()]);
    const live = new Set(listed.map((instance) => instance.id));
    // A record is current (a turn in progress may have moved on); the ledger speaks for instances whose records are gone.
    const instances: CostNode[] = [
      ...listed.map(({ id, parentId, depth, status, usage }) => ({ id, parentId, depth, status, usage })),
      ...[...entries].filter(([id]) => !live.has(id)).map(([id, entry]) => ({ id, parentId: entry.parentId, depth: entry.depth, status: "terminated" as const, usage: entry.usage, terminated: true as const })),
    ];
    return { instances, costs: new Map(instances.map((instance) => [instance.id, pricer.instance(instance.id, instance.usage)])) };
  };
  const runCosts = async (only?: string): Promise<RunCost[]> => {
    const { ctx, pricer } = parts();
    // Optional: without the workflows plugin there are no runs to sum.
    const workflows = ctx.kernel.pluginNames().includes("workflows") ? ctx.kernel.plugin<RunSource>("workflows") : undefined;
    if (!workflows) return [];
    const runs = (await workflows.runs()).filter((run) => only === undefined || run.id === only);
    if (runs.length === 0) return [];
    const { instances, costs } = await all();
    return runs.map((run) => {
      const members = runIds(
        instances,
        run.tasks.flatMap((task) => (task.instanceId ? [task.instanceId] : [])),
      ).map((id) => costs.get(id)!);
      const { id: _id, ...sum } = pricer.combine(run.id, members);
      return { run: run.id, workflow: run.workflow.name ?? "", state: run.state, ...sum, instances: members };
    });
  };
  const api: CostPluginApi = {
    instance: async (id) => {
      const { ctx, pricer, ledger } = parts();
      const record = await ctx.kernel.get(id).catch(async (error: unknown) => {
        // A terminated instance's cost is its ledger entry's.
        const entry = (await ledger.entries()).get(id);
        if (entry) return entry;
        throw error;
      });
      return pricer.instance(id, record.usage);
    },
    subtree: async (id): Promise<SubtreeCost> => {
      const { instances, costs } = await all();
      const members = subtreeIds(instances, id).map((member) => costs.get(member)!);
      return { ...parts().pricer.combine(id, members), instances: members };
    },
    prices: () => ({ asOf: PRICES_AS_OF, models: structuredClone(table) }),
    run: async (id) => (await runCosts(id))[0],
    all,
    combine: (id, members) => parts().pricer.combine(id, members),
    runs: () => runCosts(),
  };
  return {
    name: PLUGIN_NAME,
    kernel: "^0.1.0",
    api,
    apply(ctx) {
      const pricer = new Pricer(table, PRICES_AS_OF, ctx.logger);
      const ledger = new Ledger(ctx.data<LedgerEntry>("ledger"), (id) => ctx.kernel.get(id).catch(() => undefined));
      applied = { ctx, pricer, ledger };
      // Priced as each turn's usage arrives, so a model without a price is warned about when it first answers, not only when someone looks.
      ctx.hooks.usage.tapPromise(async (update) => {
        pricer.instance(update.instanceId, update.usage);
        await ledger.usage(update.instance, update.usage, update.at);
      });
      // A terminate is how a person stops spending: a store error here is a warning (this instance's spend may leave the roll-ups), never a refusal.
      ctx.hooks.beforeTerminate.tapPromise((event) =>
        ledger.terminated(event.instance, new Date().toISOString()).catch((error: unknown) => ctx.logger.warn({ err: error, instance: event.instance.id }, `could not keep the cost of "${event.instance.id}" in the cost ledger; once it is terminated its tokens leave subtree and run sums`)),
      );
      ctx.hooks.instanceFields.tap((request) => {
        for (const instance of request.instances) {
          if (!instance.usage) continue;
          const instanceCost = pricer.instance(instance.id, instance.usage);
          request.add(instance.id, instanceCost, costLine(instanceCost));
        }
      });
      ctx.hooks.listColumns.tap((columns) => [...columns, { header: "COST", value: (instance) => (instance.usage ? formatCost(pricer.instance(instance.id, instance.usage)) : undefined) }]);
      ctx.hooks.commands.tap((commands) => [...commands, costCommand(api, Object.keys(options.prices ?? {}))]);
    },
  };
}

