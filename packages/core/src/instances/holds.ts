import { BUDGET_ACTIONS, type Settings } from "../config/schema.js";
import { ErrorCodes, TmuxClaudeError } from "../errors.js";
import type { Budget, InstanceHold, InstanceRecord } from "../store/types.js";
import type { StateStore } from "../store/store-contract.js";
import { requireRecord } from "./lookups.js";

/**
 * Holding an instance's delivery (what a budget's `pause` and the turn cap
 * do): the hold lives on the stored record, so every process honours it.
 * While it is held every message to it is queued (whenBusy "now" and
 * "refuse" are refused with TC_INSTANCE_PAUSED) and no drain types one in;
 * releasing it delivers the queue, in order.
 */
export class Holds {
  constructor(
    private readonly store: StateStore,
    /** Deliver what waits for an instance whose hold was lifted (Messaging: attach here if this node owns it, drain). */
    private readonly deliver: (record: InstanceRecord) => Promise<void>,
  ) {}

  /** Hold delivery to `id`; a hold already there is replaced (the newest reason tells). Returns the record as stored. */
  async hold(id: string, reason: string, kind = "manual"): Promise<InstanceRecord> {
    if (typeof reason !== "string" || reason.trim() === "") {
      throw new TmuxClaudeError(ErrorCodes.INVALID_ARGUMENT, `hold("${id}") needs a reason a person reads (got ${JSON.stringify(reason)}), e.g. "budget of exec-1 crossed: $5.10 of $5.00".`, { id });
    }
    if (typeof kind !== "string" || kind === "") throw new TmuxClaudeError(ErrorCodes.INVALID_ARGUMENT, `hold("${id}"): the kind must be a word such as "budget" (got ${JSON.stringify(kind)}).`, { id });
    await requireRecord(this.store, id);
    const hold: InstanceHold = { kind, reason, at: new Date().toISOString() };
    return (await this.store.update(id, (r) => ({ ...r, hold })))!;
  }

  /**
   * Lift the hold of `id` (only one of `kind` when given) and deliver what was
   * queued meanwhile. True when a hold was lifted. Lifting a turn-cap hold
   * starts the turn count again (`turns` 0), so the instance gets
   * limits.maxTurns more turns.
   */
  async release(id: string, kind?: string): Promise<boolean> {
    await requireRecord(this.store, id);
    let lifted = false;
    const updated = await this.store.update(id, (r) => {
      lifted = r.hold !== undefined && (kind === undefined || r.hold.kind === kind);
      if (!lifted) return r;
      const { hold, ...rest } = r;
      return hold!.kind === "maxTurns" ? { ...rest, turns: 0 } : rest;
    });
    if (lifted && updated && updated.status !== "exited") await this.deliver(updated);
    return lifted;
  }

  /** Set (or with null, remove) the budget of `id`'s subtree; returns the record as stored. */
  async setBudget(id: string, budget: Budget | null): Promise<InstanceRecord> {
    const checked = budget === null ? undefined : checkBudget(budget, `the budget of "${id}"`);
    await requireRecord(this.store, id);
    return (await this.store.update(id, (r) => {
      const { budget: _old, ...rest } = r;
      return checked ? { ...rest, budget: checked } : rest;
    }))!;
  }
}

/** Is delivery to this record held? The store's word: another process may have held it since this one last looked. */
export async function heldIn(store: StateStore, id: string): Promise<InstanceHold | undefined> {
  return (await store.get(id))?.hold;
}

/** A send that may not wait in the queue, to a held instance. */
export function pausedError(id: string, hold: InstanceHold, whenBusy: string): TmuxClaudeError {
  return new TmuxClaudeError(
    ErrorCodes.INSTANCE_PAUSED,
    `Instance "${id}" is paused (${hold.reason}); the message (whenBusy "${whenBusy}") was refused. Send it with whenBusy "queue" to deliver it once the instance is resumed (tmux-claude resume ${id}).`,
    { id, hold: hold.kind, reason: hold.reason },
  );
}

/**
 * A budget as given to spawn or setBudget, checked: `usd` a number of
 * dollars and `tokens` a whole number, both 0 or more, at least one of them;
 * `action` one of pause, stop, notify. `where` names it in the error.
 */
export function checkBudget(value: unknown, where: string): Budget {
  const fail = (what: string) =>
    new TmuxClaudeError(ErrorCodes.INVALID_ARGUMENT, `${where}: ${what}. Give { usd?: dollars, tokens?: count, action?: "pause" | "stop" | "notify" } with usd and/or tokens, each 0 or more.`, { budget: safeJson(value) });
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw fail(`expected an object, got ${safeJson(value)}`);
  const { usd, tokens, action, ...rest } = value as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length) throw fail(`unknown key ${unknown.map((k) => `"${k}"`).join(", ")}`);
  if (usd !== undefined && (typeof usd !== "number" || !Number.isFinite(usd) || usd < 0)) throw fail(`usd must be a number of US dollars, 0 or more; got ${safeJson(usd)}`);
  if (tokens !== undefined && (typeof tokens !== "number" || !Number.isInteger(tokens) || tokens < 0)) throw fail(`tokens must be a whole number, 0 or more; got ${safeJson(tokens)}`);
  if (action !== undefined && !(BUDGET_ACTIONS as readonly unknown[]).includes(action)) throw fail(`action must be one of ${BUDGET_ACTIONS.join(", ")}; got ${safeJson(action)}`);
  if (usd === undefined && tokens === undefined) throw fail("it has neither usd nor tokens");
  return { ...(usd !== undefined ? { usd } : {}), ...(tokens !== undefined ? { tokens } : {}), ...(action !== undefined ? { action: action as Budget["action"] } : {}) };
}

/** The budget that bounds `record`'s subtree: its own, else its role's, else the default (limits.budget); the action filled in. */
export function effectiveBudget(config: Settings, record: InstanceRecord): (Budget & { action: NonNullable<Budget["action"]>; source: string }) | undefined {
  const { budget } = config.limits;
  const [own, source] = record.budget
    ? [record.budget, "its spawn's budget"]
    : budget.roles[record.role]
      ? [budget.roles[record.role]!, `limits.budget.roles.${record.role}`]
      : [budget.default, "limits.budget.default"];
  if (!own) return undefined;
  return { ...own, action: own.action ?? budget.action, source };
}

/** limits.budget.roles names roles that exist: a typo would otherwise leave that role without its budget, silently. */
export function budgetRoleIssues(config: Settings): { path: string; message: string; value: string }[] {
  const known = Object.keys(config.roles);
  return Object.keys(config.limits.budget.roles)
    .filter((role) => !known.includes(role))
    .map((role) => ({ path: `limits.budget.roles.${role}`, message: `"${role}" is not a role (roles: ${known.join(", ")}); fix the name or add the role under roles`, value: JSON.stringify(role) }));
}

function safeJson(value: unknown): string {
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
