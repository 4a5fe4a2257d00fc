import os from "node:os";
import type { InstanceRecord } from "../store/types.js";

/** What a node id may hold: it shows in records, events, logs and error messages. */
export const NODE_ID = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/u;

/**
 * The node a kernel's instances live on unless `node.id` says otherwise:
 * this machine and its tmux socket, `<host name>/<socket>`. Both are stable
 * across restarts, so records keep naming it; two sockets on one machine are
 * two tmux servers, whose pane ids repeat, so they are two nodes.
 */
export function defaultNodeId(socket: string, host = os.hostname()): string {
  const safeHost = host.replace(/[^A-Za-z0-9._-]/gu, "-").replace(/^[^A-Za-z0-9]+/u, "") || "localhost";
  return `${safeHost}/${socket}`.slice(0, 128);
}

/** The node an instance lives on; records written before nodes existed belong to this machine's node for their socket. */
export function nodeOf(record: InstanceRecord): string {
  return record.tmux.node ?? defaultNodeId(record.tmux.socket);
}

/** The record as callers see it: its node always named. */
export function withNode(record: InstanceRecord): InstanceRecord {
  return record.tmux.node ? record : { ...record, tmux: { ...record.tmux, node: nodeOf(record) } };
}
