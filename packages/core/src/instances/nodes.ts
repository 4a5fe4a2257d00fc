import { ErrorCodes, TmuxClaudeError, isTmuxClaudeError } from "../errors.js";
import type { DeliveryReceipt, OutgoingMessage } from "../kernel/messages.js";
import type { KernelHooks } from "../kernel/hooks.js";
import type { NodeReport, RouteAddress, RouteOperation, RouteRequest, RouteResults } from "../kernel/routing.js";
import type { InstanceRecord } from "../store/types.js";
import { NODE_ID, nodeOf, withNode } from "../kernel/node.js";

/** How long a send queued for a node that came back waits for that node to deliver it before answering "queued". */
const NUDGE_WAIT_MS = 2_000;

/**
 * Which node owns an instance, and how an operation reaches another node:
 * through the `route` hook, which must answer (a routing plugin), or the
 * operation fails with one error that says which node could not be reached.
 */
export class Nodes {
  /**
   * Queues a message for an instance whose node is down (Messaging sets it):
   * a send with whenBusy "queue" waits in the store for that node's serve.
   */
  queueWhileDown: ((message: OutgoingMessage) => Promise<DeliveryReceipt>) | undefined;

  constructor(
    readonly id: string,
    private readonly hooks: KernelHooks,
  ) {}

  owns(record: InstanceRecord): boolean {
    return nodeOf(record) === this.id;
  }

  /** Refuse to act on another node's instance here (its pane id means another tmux server's pane). */
  assertOwned(record: InstanceRecord, operation: string): void {
    if (this.owns(record)) return;
    const node = nodeOf(record);
    throw new TmuxClaudeError(
      ErrorCodes.WRONG_NODE,
      `Instance "${record.id}" lives on node "${node}", not on this node "${this.id}", so this node cannot ${operation} it. Route the operation to node "${node}" (a routing plugin's route tap calls that node's kernel.local).`,
      { id: record.id, node, thisNode: this.id, operation },
    );
  }

  /** A spawn that arrived here for another node was misrouted. */
  assertSpawnHere(node: string | undefined): void {
    if (node === undefined || node === this.id) return;
    throw new TmuxClaudeError(
      ErrorCodes.WRONG_NODE,
      `A spawn for node "${node}" arrived at node "${this.id}". Route it to node "${node}" (a routing plugin's route tap calls that node's kernel.local).`,
      { node, thisNode: this.id, operation: "spawn" },
    );
  }

  /**
   * A spawn placed here from another node failed on its workDir: the asker may
   * have named a directory of its own machine (a child's workDir defaults to
   * its parent's), so the error says on which node it was looked for.
   */
  placedSpawnFailed(error: unknown): unknown {
    if (!isTmuxClaudeError(error, ErrorCodes.WORKDIR_INVALID)) return error;
    return new TmuxClaudeError(
      ErrorCodes.WORKDIR_INVALID,
      `${error.message} It was looked for on node "${this.id}", where the spawn was placed: give a workDir that exists on that node's machine (a child's workDir defaults to its parent's, which may be on another machine).`,
      { ...error.details, node: this.id },
      { cause: error },
    );
  }

  assertNodeId(node: unknown): asserts node is string {
    if (typeof node === "string" && NODE_ID.test(node)) return;
    throw new TmuxClaudeError(
      ErrorCodes.INVALID_ARGUMENT,
      `node must be a node id (a letter or digit, then letters, digits, '.', '_', ':', '/' or '-'), got ${JSON.stringify(node)}. Leave it out to spawn on this node ("${this.id}").`,
      { node },
    );
  }

  /** Where a request about an instance comes from and goes to. */
  address(record: InstanceRecord): RouteAddress & { instance: InstanceRecord } {
    return { node: nodeOf(record), from: this.id, instance: withNode(record) };
  }

  /**
   * A message to an instance of this node may still be taken by a route tap
   * (the first that returns a receipt delivers it); else `deliverHere` does.
   * One of another node goes to that node; while that node is down, one that
   * may wait (whenBusy "queue") is queued in the store, which the node's serve
   * delivers once it runs again.
   */
  async deliver(record: InstanceRecord, message: OutgoingMessage, deliverHere: () => Promise<DeliveryReceipt>): Promise<DeliveryReceipt> {
    const request = { ...this.address(record), operation: "send", message } as const;
    if (!this.owns(record)) {
      const down = (await this.unreachableNodes()).get(request.node);
      if (down && message.whenBusy === "queue" && this.queueWhileDown) return this.nudgeIfBack(record, await this.queueWhileDown(message));
      return this.forward(request, { down });
    }
    return ((await this.hooks.route.promise(request)) as DeliveryReceipt | undefined) ?? deliverHere();
  }

  /**
   * A node can come back between the look that found it down and the enqueue:
   * its serve's drain on re-attach may then have missed the message. Look
   * again, and if it is live ask it to deliver (waitDelivered attaches and
   * drains); the receipt says delivered if that happened within a moment.
   */
  private async nudgeIfBack(record: InstanceRecord, receipt: DeliveryReceipt): Promise<DeliveryReceipt> {
    const node = nodeOf(record);
    if ((await this.unreachableNodes().catch(() => new Map([[node, "unknown"]]))).has(node)) return receipt;
    return this.nudge(record, receipt);
  }

  /**
   * Ask another node to deliver a message queued for its instance
   * (waitDelivered attaches and drains there): the receipt says delivered if
   * that happened within a moment, else it stays queued.
   */
  async nudge(record: InstanceRecord, receipt: DeliveryReceipt): Promise<DeliveryReceipt> {
    try {
      await this.forward({ ...this.address(record), operation: "waitDelivered", messageId: receipt.messageId, timeoutMs: NUDGE_WAIT_MS });
    } catch {
      return receipt; // still queued: that node delivers it once its agent is idle
    }
    return { messageId: receipt.messageId, instanceId: receipt.instanceId, state: "delivered", acceptedAt: new Date().toISOString() };
  }

  /** The nodes that plugins report (the `nodes` hook), as they report them. */
  reports(): Promise<NodeReport[]> {
    return this.hooks.nodes.promise([]);
  }

  /**
   * A serve of this node runs (a plugin reports this node live; only a serve
   * registers its node): it watches this node's instances and keeps their
   * records current, so a one-shot kernel need not look at them itself.
   */
  servedHere(reports: readonly NodeReport[]): boolean {
    return reports.some((report) => report.id === this.id && report.state === "live");
  }

  /**
   * Why another node's instances cannot be reached now, by node: those
   * reported and not live. This node's own are always reachable (its tmux is here).
   */
  async unreachableNodes(reports?: readonly NodeReport[]): Promise<Map<string, string>> {
    const down = new Map<string, string>();
    for (const report of reports ?? (await this.reports())) {
      if (report.state !== "live" && report.id !== this.id) down.set(report.id, unreachableReason(report));
    }
    return down;
  }

  /**
   * Hand a request to the route taps; the first answer wins. No answer, or a
   * tap that fails on its own account, is TC_NODE_UNREACHABLE or
   * TC_ROUTE_FAILED; a TmuxClaudeError a tap throws is the other node's
   * answer (the instance is busy, say) and reaches the caller unchanged.
   */
  async forward<R extends RouteRequest>(request: R, checked?: { down: string | undefined }): Promise<RouteResults[R["operation"]]> {
    // A node known to be down fails at once, saying so, instead of at the route's timeout.
    const down = checked ? checked.down : (await this.unreachableNodes()).get(request.node);
    if (down) {
      throw new TmuxClaudeError(
        ErrorCodes.NODE_UNREACHABLE,
        `Node "${request.node}" cannot ${describe(request)} now (this is node "${this.id}"): ${down}. Start \`tmux-claude serve\` on node "${request.node}" again; its instances are live again once it runs.`,
        { node: request.node, thisNode: this.id, operation: request.operation, ...instanceOf(request), down: true },
      );
    }
    let answer: unknown;
    try {
      answer = await this.hooks.route.promise(request);
    } catch (error) {
      throw this.routeFailed(request, error);
    }
    if (answer === undefined || answer === null) throw this.unreachable(request);
    return answer as RouteResults[R["operation"]];
  }

  private unreachable(request: RouteRequest, why?: string): TmuxClaudeError {
    const plugins = this.hooks.route.taps.map((tap) => tap.name);
    const taps =
      why ??
      (plugins.length ? `the route tap(s) of plugin(s) ${plugins.map((p) => `"${p}"`).join(", ")} returned nothing for it` : "no plugin taps the route hook");
    return new TmuxClaudeError(
      ErrorCodes.NODE_UNREACHABLE,
      `Node "${request.node}" could not be reached to ${describe(request)} (this is node "${this.id}"): ${taps}. Add a routing plugin that reaches node "${request.node}" (e.g. the redis plugin) to plugins in your config on both nodes, and check that a kernel of node "${request.node}" is running.`,
      { node: request.node, thisNode: this.id, operation: request.operation, ...instanceOf(request), plugins },
    );
  }

  private routeFailed(request: RouteRequest, error: unknown): unknown {
    // Only our own wrapping of a route tap's failure is a routing failure; anything else is an answer.
    if (!isTmuxClaudeError(error, ErrorCodes.PLUGIN_HOOK_FAILED) || error.details.hook !== "route") return error;
    // The other node's kernel is closed (or not started yet): to this node, that node is not reachable now.
    if (isTmuxClaudeError(error.cause, ErrorCodes.KERNEL_STATE)) return this.unreachable(request, `its kernel answered "${error.cause.message.replace(/\.$/u, "")}"`);
    if (isTmuxClaudeError(error.cause)) return error.cause;
    const plugin = error.details.plugin;
    const reason = error.cause instanceof Error ? error.cause.message : String(error.cause);
    return new TmuxClaudeError(
      ErrorCodes.ROUTE_FAILED,
      `Plugin "${plugin}" failed to route the request to ${describe(request)} to node "${request.node}" (this is node "${this.id}"): ${reason}. Check that node "${request.node}" is running and reachable from here, or fix the plugin's route tap; nothing was done on node "${request.node}" unless it says otherwise.`,
      { node: request.node, thisNode: this.id, operation: request.operation, ...instanceOf(request), plugin, hook: "route" },
      { cause: error.cause },
    );
  }
}

function unreachableReason(report: NodeReport): string {
  const state = report.state === "lost" ? "is lost" : "is stopped";
  return `node "${report.id}" ${state}${report.reason ? ` (${report.reason})` : ""}`;
}

function instanceOf(request: RouteRequest): { id?: string } {
  return "instance" in request ? { id: request.instance.id } : {};
}

const VERBS: Record<RouteOperation, string> = {
  send: "send a message to",
  read: "read",
  terminate: "terminate",
  restart: "restart",
  waitDelivered: "wait for a delivery to",
  deliverQueued: "deliver the queue of",
  spawn: "spawn",
};

function describe(request: RouteRequest): string {
  if (request.operation === "spawn") return `spawn an instance of role "${request.options.role}"`;
  return `${VERBS[request.operation]} instance "${request.instance.id}"`;
}
