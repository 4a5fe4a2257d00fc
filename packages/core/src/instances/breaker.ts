import type { Settings } from "../config/schema.js";
import { ErrorCodes, TmuxClaudeError, isTmuxClaudeError } from "../errors.js";
import type { StateStore } from "../store/store-contract.js";

/** Where the breakers of limits.breaker are kept: one document per agent name, none while it is closed and clean. */
const BREAKERS = "kernel/breakers";
/** How many failures a breaker quotes (the newest). */
const QUOTED = 5;

/** One failed spawn as a breaker keeps it. */
export interface BreakerFailure {
  at: string;
  /** The instance the spawn had reserved. */
  instance: string;
  code: string;
  message: string;
}

/**
 * The circuit breaker of one agent (limits.breaker), as the store holds it:
 * `closed` counts recent failures, `open` refuses spawns until `closesAt`,
 * `half-open` lets one trial spawn through (started at `trialAt`).
 */
export interface BreakerState {
  agent: string;
  state: "closed" | "open" | "half-open";
  /** The failures within the window (closed), or those that opened it; newest last (the error quotes the last 5). */
  failures: BreakerFailure[];
  openedAt?: string;
  /** When an open breaker lets a trial spawn through. */
  closesAt?: string;
  /** When the trial spawn of a half-open breaker began. */
  trialAt?: string;
}

/** What a spawn learnt from the breaker: whether it is the half-open trial (its outcome closes or re-opens the breaker). */
export interface BreakerTicket {
  agent: string;
  trial: boolean;
}

/**
 * limits.breaker: N spawns of an agent that failed (launched, never ready)
 * within a window open that agent's breaker; its spawns then fail at once
 * with TC_BREAKER_OPEN until the cooldown passed, when one trial spawn goes
 * through (half-open): its success closes the breaker, its failure opens it
 * again. The state is a store document per agent, so every process (each CLI
 * spawn is one) and, with the Redis store, every node counts the same
 * failures. Checked before the spawn reserves an id, so a refusal costs one
 * document read and no place in limits.maxInstances or limits.spawnRate.
 */
export class Breakers {
  constructor(
    private readonly store: StateStore,
    private readonly config: Settings,
  ) {}

  private get limits() {
    return this.config.limits.breaker;
  }

  /** Before a spawn of `agent`: throws TC_BREAKER_OPEN while its breaker is open, else says whether this spawn is the trial. */
  async check(agent: string, now = Date.now()): Promise<BreakerTicket> {
    const limits = this.limits;
    if (!limits) return { agent, trial: false };
    const current = (await this.store.getDoc(BREAKERS, agent)) as BreakerState | undefined;
    if (!current || current.state === "closed") return { agent, trial: false };
    // Open past its cooldown, or a trial that never reported (its process died): this spawn is the trial, if it takes the claim first.
    const trialStale = now - this.config.limits.spawnTimeout * 2;
    const due = (doc: BreakerState) => (doc.state === "open" ? Date.parse(doc.closesAt ?? "") <= now : Date.parse(doc.trialAt ?? "") <= trialStale);
    // Refused on the read alone: no write, no lock (the refusal is the fast path).
    if (!due(current)) throw openError(current, now);
    let claimed = false;
    let seen: BreakerState | undefined;
    await this.store.updateDoc<BreakerState>(BREAKERS, agent, (doc) => {
      seen = doc;
      claimed = false;
      if (!doc || doc.state === "closed" || !due(doc)) return doc;
      claimed = true;
      return { ...doc, state: "half-open", trialAt: new Date(now).toISOString() };
    });
    if (claimed) return { agent, trial: true };
    if (!seen || seen.state === "closed") return { agent, trial: false };
    throw openError(seen, now);
  }

  /** A spawn of the ticket's agent failed; `launched`: the agent was started (only then is it the agent's failure). */
  async failed(ticket: BreakerTicket, instance: string, error: unknown, launched: boolean, now = Date.now()): Promise<void> {
    const limits = this.limits;
    if (!limits || isTmuxClaudeError(error, ErrorCodes.BREAKER_OPEN)) return;
    if (!launched) {
      // Refused before the agent ran (a plugin, maxInstances): not the agent's failure; a trial goes back, due, for the next spawn.
      if (ticket.trial) await this.store.updateDoc<BreakerState>(BREAKERS, ticket.agent, (doc) => (doc?.state === "half-open" ? { ...doc, state: "open" } : doc));
      return;
    }
    const failure: BreakerFailure = {
      at: new Date(now).toISOString(),
      instance,
      code: isTmuxClaudeError(error) ? error.code : "TC_UNKNOWN",
      message: failureLine(error),
    };
    await this.store.updateDoc<BreakerState>(BREAKERS, ticket.agent, (doc) => {
      const since = now - limits.windowMs;
      const recent = doc?.state === "closed" || !doc ? (doc?.failures ?? []).filter((f) => Date.parse(f.at) > since) : doc.failures;
      // Enough to count to `failures` within the window; the error quotes the newest QUOTED.
      const failures = [...recent, failure].slice(-Math.max(limits.failures, QUOTED));
      const count = doc?.state === "half-open" ? limits.failures : recent.length + 1;
      if (count < limits.failures && doc?.state !== "half-open") return { agent: ticket.agent, state: "closed", failures };
      return { agent: ticket.agent, state: "open", failures, openedAt: failure.at, closesAt: new Date(now + limits.cooldownMs).toISOString() };
    });
  }

  /** A spawn of the ticket's agent became ready: a trial closes its breaker (the document goes). */
  async succeeded(ticket: BreakerTicket): Promise<void> {
    if (!ticket.trial) return;
    await this.store.updateDoc<BreakerState>(BREAKERS, ticket.agent, (doc) => (doc?.state === "half-open" ? undefined : doc));
  }

  /** Every agent's breaker the store holds (closed ones with recent failures too), by agent name. */
  async list(): Promise<BreakerState[]> {
    return (await this.store.listDocs(BREAKERS)).map((doc) => doc.value as BreakerState);
  }

  /** Close one agent's breaker (forgetting its failures), or every one; resolves with the agents whose breaker was open or half-open. */
  async reset(agent?: string): Promise<string[]> {
    const agents = agent === undefined ? (await this.list()).map((b) => b.agent) : [agent];
    const opened: string[] = [];
    for (const name of agents) {
      let was: BreakerState | undefined;
      await this.store.updateDoc<BreakerState>(BREAKERS, name, (doc) => {
        was = doc;
        return undefined;
      });
      if (was && was.state !== "closed") opened.push(name);
    }
    return opened;
  }
}

function openError(doc: BreakerState, now: number): TmuxClaudeError {
  const quoted = doc.failures.slice(-QUOTED).map((f) => `  - ${f.at} ${f.instance}: ${f.code}: ${f.message}`).join("\n");
  const when =
    doc.state === "half-open"
      ? `a trial spawn began at ${doc.trialAt}; its outcome closes or re-opens it`
      : `it lets a trial spawn through at ${doc.closesAt} (in ${Math.max(0, Math.ceil((Date.parse(doc.closesAt ?? "") - now) / 1000))} s)`;
  return new TmuxClaudeError(
    ErrorCodes.BREAKER_OPEN,
    `Spawn refused: the circuit breaker of agent "${doc.agent}" is ${doc.state} since ${doc.openedAt} after ${doc.failures.length} failed spawn${doc.failures.length === 1 ? "" : "s"}; ${when}. ` +
      `The last failures:\n${quoted}\nFix the agent (tmux-claude doctor checks its command), then reset the breaker with tmux-claude doctor --reset-breakers ${doc.agent}.`,
    { agent: doc.agent, state: doc.state, closesAt: doc.closesAt, failures: doc.failures },
  );
}

/**
 * One line for a failure: the error's first line without a dangling "Its
 * screen:" (the screen is on the next lines), and, when the reason does not
 * quote the agent's output already, the last line of the screen the error
 * carries (`details.screen`), so the quote keeps why it failed.
 */
function failureLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  let line = (text.split("\n")[0] ?? "").replace(/\s*Its screen:\s*$/u, "");
  const screen = isTmuxClaudeError(error) ? error.details["screen"] : undefined;
  const last = typeof screen === "string" ? screen.split("\n").filter((l) => l.trim() !== "").at(-1)?.trim() : undefined;
  if (last && !line.includes("its last output")) line += ` Last line on its screen: ${last}`;
  return line.length > 300 ? `${line.slice(0, 299)}…` : line;
}
