import { ErrorCodes, TmuxClaudeError } from "../errors.js";
import type { InstanceRecord } from "../store/types.js";
import type { ManagerDeps } from "./deps.js";
import type { Registry } from "./registry.js";

/** The longest delay setTimeout takes (about 24.8 days); a later reset is waited for in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Usage limits (status `limited`, `InstanceRecord.limitedUntil`): a timer to
 * each limited instance's reset time, no polling. The time lives on the
 * record, so a restarted serve re-arms what it finds at start. At the reset
 * the instance goes back to idle (its queue is delivered), and with
 * `limits.usage.resumeOnReset` it gets the continue message. Every process
 * attached to the instance arms a timer (serve keeps its process alive for
 * it, a one-shot kernel does not); at the reset the process that fires the
 * node's observed events acts (serve; without one, any process: see
 * EventOwner), and its status write only applies while the record still is
 * limited until that time, so exactly one process makes the change and sends
 * the message.
 *
 * Spawns of an agent whose account is limited wait for the reset or fail
 * (`limits.usage.spawn`). An account is `agents.<name>.account`, by default the agent's name.
 */
export class UsageLimits {
  private readonly timers = new Map<string, { until: string; timer: NodeJS.Timeout }>();
  private readonly closing = new AbortController();

  constructor(
    private readonly deps: ManagerDeps,
    private readonly registry: Registry,
    /** Sends the continue message (whenBusy queue, from the root). */
    private readonly send: (id: string, text: string) => Promise<unknown>,
  ) {}

  /**
   * After the reconciler attached to what survived. A limit is armed when this
   * process sees an instance become limited and when it attaches to a limited
   * one (serve at start, to every instance of its node; a one-shot command to
   * those it touches: a reset already past then happens at once).
   */
  async start(): Promise<void> {
    this.registry.events.on("status", this.onStatus);
    this.registry.events.on("attached", this.onStatus);
    // What serve attached to before this listened.
    for (const live of this.registry.all()) this.onStatus(live.record.id, live.record);
  }

  /** Before the manager closes: timers cleared, spawns waiting for a reset fail. */
  stop(): void {
    this.registry.events.off("status", this.onStatus);
    this.registry.events.off("attached", this.onStatus);
    this.closing.abort(new TmuxClaudeError(ErrorCodes.KERNEL_STATE, "The kernel closed while a spawn waited for a usage limit to reset; spawn again."));
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private readonly onStatus = (id: string, record: InstanceRecord): void => {
    const armed = this.timers.get(id);
    if (record.status === "limited" && record.limitedUntil !== undefined) {
      if (armed?.until === record.limitedUntil) return;
      if (armed) clearTimeout(armed.timer);
      this.arm(id, record.limitedUntil);
    } else if (armed) {
      clearTimeout(armed.timer);
      this.timers.delete(id);
    }
  };

  private arm(id: string, until: string): void {
    const delay = Math.min(Math.max(0, Date.parse(until) - Date.now()), MAX_TIMER_MS);
    const timer = setTimeout(() => void this.reset(id, until), delay);
    // A one-shot command does not stay up for a reset hours away; serve (or the next process attached) takes it.
    if (!this.registry.watchAll) timer.unref();
    this.timers.set(id, { until, timer });
  }

  private async reset(id: string, until: string): Promise<void> {
    if (this.timers.get(id)?.until !== until) return;
    this.timers.delete(id);
    if (Date.now() < Date.parse(until)) return this.arm(id, until);
    const live = this.registry.get(id);
    if (!live || live.record.status !== "limited" || live.record.limitedUntil !== until) return;
    // Serve resets it when one watches the instance (as it fires the observed events); this process only without one.
    if (!(await this.registry.ownsEventsOf(live.record.agent))) return;
    const { logger, config } = this.deps;
    const stillLimited = (stored: InstanceRecord) => stored.status === "limited" && stored.limitedUntil === until;
    // Another process may have reset it already (and the agent be busy with the continue message): then this one
    // must not show it idle even for a moment (its queue would be typed into a working agent).
    const before = await this.deps.store.get(id).catch(() => undefined);
    const madeHere = before && stillLimited(before) ? await this.registry.applyStatus(id, "idle", { reason: `the usage limit reset at ${until}` }, { only: stillLimited }) : false;
    if (!madeHere) {
      // Take the stored status (the reconciler would too, at the store's next word).
      const stored = await this.deps.store.get(id).catch(() => undefined);
      const current = this.registry.get(id)?.record;
      if (stored && current && stored.status !== current.status) void this.registry.applyStatus(id, stored.status, { reason: stored.statusReason, limitedUntil: stored.limitedUntil });
      return;
    }
    logger.info({ instance: id, until, resume: config.limits.usage.resumeOnReset }, "the usage limit reset");
    if (!config.limits.usage.resumeOnReset) return;
    await this.send(id, config.limits.usage.continueMessage).catch((error: unknown) =>
      logger.warn({ err: error, instance: id }, `could not send the continue message after the usage limit reset (limits.usage.resumeOnReset); send it with: tmux-claude send ${id} "${config.limits.usage.continueMessage}"`),
    );
  }

  /** The account whose usage limit instances of `agent` share. */
  accountOf(agent: string): string {
    return this.deps.config.agents[agent]?.account ?? agent;
  }

  /**
   * Before a spawn of `agent`: while an instance of its account is limited,
   * wait until the latest reset (`spawn: "wait"`, logged) or refuse with the
   * reset time (`spawn: "fail"`).
   */
  async beforeSpawn(agent: string): Promise<void> {
    const account = this.accountOf(agent);
    for (;;) {
      const now = Date.now();
      const limited = (await this.deps.store.list()).filter(
        (r) => r.status === "limited" && r.limitedUntil !== undefined && Date.parse(r.limitedUntil) > now && this.accountOf(r.agent) === account,
      );
      if (limited.length === 0) return;
      const until = limited.map((r) => r.limitedUntil!).sort().at(-1)!;
      const ids = limited.map((r) => r.id);
      if (this.deps.config.limits.usage.spawn === "fail") {
        throw new TmuxClaudeError(
          ErrorCodes.USAGE_LIMITED,
          `Account "${account}" (agent "${agent}") is at its usage limit until ${until} (limited: ${ids.join(", ")}). Spawn again after the reset, or set limits.usage.spawn to "wait" to hold spawns until then.`,
          { account, agent, until, instances: ids },
        );
      }
      this.deps.logger.warn({ account, agent, until, instances: ids }, `the spawn waits for account "${account}"'s usage limit to reset at ${until}`);
      await this.sleepUntil(Date.parse(until));
    }
  }

  private sleepUntil(at: number): Promise<void> {
    const signal = this.closing.signal;
    return new Promise<void>((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      const onClose = () => {
        clearTimeout(timer);
        reject(signal.reason);
      };
      const timer = setTimeout(() => {
        signal.removeEventListener("abort", onClose);
        resolve();
      }, Math.min(Math.max(0, at - Date.now()), MAX_TIMER_MS));
      signal.addEventListener("abort", onClose, { once: true });
    });
  }
}
