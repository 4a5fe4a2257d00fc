import { ErrorCodes, TmuxClaudeError } from "../errors.js";
import type { InstanceRecord } from "../store/types.js";
import type { ReadOptions, ReadResult, SpawnOptions, SpawnResult, TerminateOptions } from "../instances/types.js";
import type { DeliveryReceipt, OutgoingMessage } from "./messages.js";

/**
 * An operation on an instance of another node, as the `route` hook gets it.
 * `node` is the node that must perform it, `from` the node that asks. A
 * routing plugin carries it to `node` and hands it to that node's
 * `kernel.local.perform(request)`, which answers with the operation's result.
 */
export type RouteRequest =
  | (RouteAddress & { readonly operation: "send"; readonly instance: InstanceRecord; readonly message: OutgoingMessage })
  | (RouteAddress & { readonly operation: "read"; readonly instance: InstanceRecord; readonly options: ReadOptions })
  | (RouteAddress & { readonly operation: "terminate"; readonly instance: InstanceRecord; readonly options: TerminateOptions })
  | (RouteAddress & { readonly operation: "restart"; readonly instance: InstanceRecord })
  | (RouteAddress & { readonly operation: "waitDelivered"; readonly instance: InstanceRecord; readonly messageId: string; readonly timeoutMs: number })
  | (RouteAddress & { readonly operation: "deliverQueued"; readonly instance: InstanceRecord; readonly timeoutMs: number })
  | (RouteAddress & { readonly operation: "spawn"; readonly options: SpawnOptions; readonly caller: string | null });

export interface RouteAddress {
  /** The node that performs the operation. */
  readonly node: string;
  /** The node that asks for it. */
  readonly from: string;
}

export type RouteOperation = RouteRequest["operation"];

/** What each operation answers; `waitDelivered` answers "delivered" (a bail hook needs a value). */
export interface RouteResults {
  send: DeliveryReceipt;
  read: ReadResult;
  terminate: string[];
  restart: InstanceRecord;
  waitDelivered: "delivered";
  deliverQueued: number;
  spawn: SpawnResult;
}

export type RouteResult = RouteResults[RouteOperation];

/**
 * A node as a plugin that tracks nodes (the `nodes` hook) knows it: `live`
 * while its `serve` keeps a heartbeat, `lost` when the heartbeat expired
 * without a goodbye (killed, machine or network gone), `stopped` when its
 * `serve` closed. Another node's instance on a node that is not live is
 * `unreachable`: list flags it, operations on it fail at once.
 */
export interface NodeReport {
  readonly id: string;
  readonly state: "live" | "lost" | "stopped";
  /** Why, in words, for messages: "its heartbeat expired (serve pid 4242 on host a)". */
  readonly reason?: string;
}

/**
 * The receiving end of routed operations: each performs its operation on
 * this node's tmux, without running `beforeSend` or `route` again, and a sent
 * message keeps its id. An instance of another node is refused
 * (TC_WRONG_NODE), so a misrouted operation never acts on the wrong pane.
 */
export interface LocalOperations {
  /** Perform a routed request; what a routing plugin calls on the receiving node. */
  perform(request: RouteRequest): Promise<RouteResult>;
  send(message: OutgoingMessage): Promise<DeliveryReceipt>;
  read(id: string, options?: ReadOptions): Promise<ReadResult>;
  terminate(id: string, options?: TerminateOptions): Promise<string[]>;
  restart(id: string): Promise<InstanceRecord>;
  waitDelivered(instanceId: string, messageId: string, timeoutMs: number): Promise<void>;
  deliverQueued(id: string, timeoutMs: number): Promise<number>;
  spawn(options: SpawnOptions, caller?: string | null): Promise<SpawnResult>;
}

/** Dispatch a routed request to the local operation it names. */
export async function performLocally(local: LocalOperations, request: RouteRequest): Promise<RouteResult> {
  switch (request.operation) {
    case "send":
      return local.send(request.message);
    case "read":
      return local.read(request.instance.id, request.options);
    case "terminate":
      return local.terminate(request.instance.id, request.options);
    case "restart":
      return local.restart(request.instance.id);
    case "waitDelivered":
      await local.waitDelivered(request.instance.id, request.messageId, request.timeoutMs);
      return "delivered";
    case "deliverQueued":
      return local.deliverQueued(request.instance.id, request.timeoutMs);
    case "spawn":
      return local.spawn(request.options, request.caller);
  }
  // Requests may come over a wire, from a peer of another version.
  const operation = (request as { operation?: unknown }).operation;
  throw new TmuxClaudeError(
    ErrorCodes.INVALID_ARGUMENT,
    `A routed request names operation ${JSON.stringify(operation)}, which this node does not know (known: send, read, terminate, restart, waitDelivered, deliverQueued, spawn). Run the same tmux-claude version on every node.`,
    { operation },
  );
}
