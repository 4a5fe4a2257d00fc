// Budgets enforced: a spawn into a subtree at or over its budget is refused;
// a usage event that crosses one runs its action (pause, stop, notify) once
// per budget value; raising a budget lifts the pause it caused.
import { defineErrorCodes, TmuxClaudeError, type InstanceSummary, type PluginContext, type SpawnPlan, type TakePlan, type UsageUpdate } from "@tmux-claude/core";
import { subtreeIds } from "../rollup.js";
import type { CostApi } from "../types.js";
import { budgetKey, budgetsOver, crossed, figures, inList, type Lookup, type SubtreeBudget } from "./check.js";

export const BudgetErrors = defineErrorCodes("budget", {
  /** A spawn into a subtree at or over its budget. */
  EXCEEDED: { code: "TC_BUDGET_EXCEEDED", kind: "failure" },
});

/** What the plugin keeps on a subtree's root (`pluginState.budget`): the budget value whose crossing was acted on. */
interface BudgetState {
  crossed?: string;
}

/** The hold kind of a budget's pause, which raising the budget lifts. */
export const HOLD_KIND = "budget";

export class Budgets {
  /** Actions under way (a stop's terminate, the parent's message): the kernel's close waits for them. */
  private readonly pending = new Set<Promise<unknown>>();

  constructor(
    private readonly ctx: PluginContext,
    private readonly cost: () => CostApi,
  ) {
    ctx.onClose(async () => {
      await Promise.allSettled([...this.pending]);
    });
  }

  /** beforeSpawn: refuse a spawn under a subtree (the parent's or an ancestor's) that is at or over its budget. */
  async beforeSpawn(plan: SpawnPlan): Promise<SpawnPlan> {
    if (plan.restart) return plan;
    const refusal = await this.refusal(plan.parentId, plan.role);
    if (refusal) throw refusal;
    return plan;
  }

  /**
   * beforeTake: a spawn served by a running instance (a warm pool's, a reuse)
   * runs no beforeSpawn; under a subtree over its budget it is passed over, so
   * the spawn goes cold and beforeSpawn refuses it with TC_BUDGET_EXCEEDED.
   */
  async beforeTake(plan: TakePlan): Promise<string | undefined> {
    return (await this.refusal(plan.parentId, plan.role))?.message;
  }

  private async refusal(parentId: string | null, role: string): Promise<TmuxClaudeError | undefined> {
    if (parentId === null) return undefined;
    for (const { root, budget } of await budgetsOver(this.ctx.config, this.stored, parentId)) {
      const spent = await this.cost().subtree(root.id);
      const over = crossed(budget, spent);
      if (!over) continue;
      return new TmuxClaudeError(
        BudgetErrors.EXCEEDED,
        `Spawn refused: the subtree of "${root.id}" has spent ${over} (its budget, from ${budget.source}). ` +
          `Raise it (tmux-claude budget ${root.id} --usd <dollars> / --tokens <count>, or the budget tool) or spawn elsewhere.`,
        { subtree: root.id, parentId, role, ...figures(budget, spent) },
      );
    }
    return undefined;
  }

  /** usage (fired once across processes): every budget over the instance that this usage crossed runs its action, once per budget value. */
  onUsage(update: UsageUpdate): Promise<void> {
    return this.check(update.instanceId);
  }

  /** Run the action of every budget over `id` that is reached and was not acted on for its value (also after a budget was set lower than spent). */
  async check(id: string): Promise<void> {
    for (const bound of await budgetsOver(this.ctx.config, this.stored, id)) {
      const spent = await this.cost().subtree(bound.root.id);
      const over = crossed(bound.budget, spent);
      if (!over) continue;
      const key = budgetKey(bound.budget);
      let first = false;
      await this.ctx.state<BudgetState>(bound.root.id).update((state) => {
        first = state?.crossed !== key;
        return { ...state, crossed: key };
      });
      if (first) await this.act(bound, over, figures(bound.budget, spent), await this.ctx.kernel.list());
    }
  }

  private async act({ root, budget }: SubtreeBudget, over: string, facts: Record<string, unknown>, instances: readonly InstanceSummary[]): Promise<void> {
    const { ctx } = this;
    const members = subtreeIds(instances, root.id).filter((id) => instances.find((i) => i.id === id)?.status !== "exited");
    const what = { pause: "delivery paused", stop: "subtree terminated", notify: "notice only" }[budget.action];
    const title = `Budget of ${root.id}'s subtree crossed: ${over}; ${what}`;
    ctx.logger.warn({ subtree: root.id, action: budget.action, over }, "budget crossed");
    if (budget.action === "pause") {
      const reason = `budget of ${root.id}'s subtree crossed: ${over} (${budget.source})`;
      for (const id of members) await ctx.kernel.hold(id, reason, HOLD_KIND).catch((error: unknown) => ctx.logger.warn({ err: error, instance: id }, "could not hold an instance of a subtree over budget"));
      if (root.parentId) {
        const text =
          `[tmux-claude] The budget of your child ${root.id}'s subtree is used up: ${over}. Its delivery is paused (messages to it wait in its queue). ` +
          `Raise its budget (the budget tool, or tmux-claude budget ${root.id} --usd <dollars>) to resume it, or end it (terminate).`;
        this.background(ctx.kernel.send(root.parentId, text, { whenBusy: "queue" }), "could not tell the parent that its child's subtree was paused");
      }
    } else if (budget.action === "stop") {
      // Not awaited here: terminating waits for the instances' lines, one of which is announcing this very usage.
      this.background(ctx.kernel.terminate(root.id, { cascade: true }), "could not terminate a subtree over budget");
    }
    // The same id in every process and for every repeat of this crossing: notifiers drop repeats.
    const eventId = `budget:${root.id}:${budgetKey(budget)}`;
    await ctx.notice({ kind: "budget", title, severity: budget.action === "notify" ? "warning" : "error", instanceId: root.id, eventId, data: { subtree: root.id, instances: members, ...facts } });
  }

  /**
   * After a budget changed (`budget` command or tool): lift the budget holds
   * in `id`'s subtree whose instances are under every budget over them now,
   * and forget the crossing of a budget that is no longer crossed. Returns
   * the instances resumed.
   */
  async recheck(id: string): Promise<string[]> {
    const instances = await this.ctx.kernel.list();
    const stillOver = new Map<string, boolean>();
    const over = async (bound: SubtreeBudget) => {
      if (!stillOver.has(bound.root.id)) stillOver.set(bound.root.id, crossed(bound.budget, await this.cost().subtree(bound.root.id)) !== undefined);
      return stillOver.get(bound.root.id)!;
    };
    const lookup = inList(instances);
    for (const bound of await budgetsOver(this.ctx.config, lookup, id)) {
      if (!(await over(bound))) await this.ctx.state<BudgetState>(bound.root.id).update(({ crossed: _c, ...rest } = {}) => rest);
    }
    const resumed: string[] = [];
    for (const member of subtreeIds(instances, id)) {
      const instance = instances.find((i) => i.id === member)!;
      if (instance.hold?.kind !== HOLD_KIND || instance.status === "exited") continue;
      let blocked = false;
      for (const bound of await budgetsOver(this.ctx.config, lookup, member)) if (await over(bound)) blocked = true;
      if (!blocked && (await this.ctx.kernel.release(member, HOLD_KIND))) resumed.push(member);
    }
    return resumed;
  }

  /** A record as the store has it now (any process may have changed its budget); undefined once it is gone. */
  private readonly stored: Lookup = (id) => this.ctx.kernel.get(id).catch(() => undefined);

  private background(work: Promise<unknown>, failure: string): void {
    const tracked = work.catch((error: unknown) => this.ctx.logger.warn({ err: error }, failure)).finally(() => this.pending.delete(tracked));
    this.pending.add(tracked);
  }
}
