/**
 * A second participant on a store's data, for the store contract: a real
 * child process for stores shared between processes, or another handle in
 * this process. Both run the same commands (`runPeerCommand`) and can be
 * killed without cleaning up, as `kill -9` ends a process.
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import type { InstanceRecord, QueuedMessage, StateStore } from "@tmux-claude/core";

export type PeerCommand =
  /** `update` the record `id` `times` times, adding 1 to its contract counter. */
  | { op: "increment"; id: string; times: number }
  /** Read-modify-write the counter with plain get and put, under `withLock(key)`. */
  | { op: "incrementUnderLock"; id: string; key: string; times: number }
  /** Take `withLock(key)` and keep it until killed; answers once held. */
  | { op: "hold"; key: string; leaseMs: number }
  /** Claim the oldest message and keep the claim (never ack); answers with the outcome. */
  | { op: "claim"; instanceId: string; leaseMs: number; note?: string }
  | { op: "put"; record: InstanceRecord }
  | { op: "enqueue"; message: QueuedMessage }
  /** `updateDoc` the document `times` times, adding 1 to its `n`. */
  | { op: "incrementDoc"; collection: string; key: string; times: number }
  /** Store `value` as the document; without one, delete it. */
  | { op: "setDoc"; collection: string; key: string; value?: unknown }
  /** `putDoc` the document. */
  | { op: "putDoc"; collection: string; key: string; value: unknown };

export interface StorePeer {
  run(command: PeerCommand): Promise<unknown>;
  /** End without releasing anything (SIGKILL for a process). Resolves once it is gone. */
  kill(): Promise<void>;
}

/** The contract's counter inside a record. */
export function counterOf(record: InstanceRecord | undefined): number {
  const state = record?.pluginState?.contract as { n?: number } | undefined;
  return state?.n ?? 0;
}

export function withCounter(record: InstanceRecord, n: number): InstanceRecord {
  return { ...record, pluginState: { ...record.pluginState, contract: { n } } };
}

export async function runPeerCommand(store: StateStore, command: PeerCommand): Promise<unknown> {
  switch (command.op) {
    case "increment":
      for (let i = 0; i < command.times; i++) await store.update(command.id, (record) => withCounter(record, counterOf(record) + 1));
      return null;
    case "incrementUnderLock":
      for (let i = 0; i < command.times; i++) {
        await store.withLock(command.key, async () => {
          const record = await store.get(command.id);
          if (!record) throw new Error(`record ${command.id} is missing`);
          // Yield between read and write, so a lock that did not exclude would lose increments.
          await new Promise<void>((resolve) => setImmediate(resolve));
          await store.put(withCounter(record, counterOf(record) + 1));
        });
      }
      return null;
    case "hold":
      return new Promise((resolve, reject) => {
        store.withLock(command.key, () => {
          resolve("held");
          return new Promise<never>(() => undefined);
        }, { leaseMs: command.leaseMs }).catch(reject);
      });
    case "claim": {
      const outcome = await store.claim(command.instanceId, { leaseMs: command.leaseMs, ...(command.note === undefined ? {} : { note: command.note }) });
      return outcome.state === "claimed" ? { state: outcome.state, messageId: outcome.claim.message.id } : outcome;
    }
    case "put":
      await store.put(command.record);
      return null;
    case "enqueue":
      await store.enqueue(command.message);
      return null;
    case "incrementDoc":
      for (let i = 0; i < command.times; i++) await store.updateDoc<{ n: number }>(command.collection, command.key, (doc) => ({ n: (doc?.n ?? 0) + 1 }));
      return null;
    case "setDoc":
      await store.updateDoc(command.collection, command.key, () => command.value);
      return null;
    case "putDoc":
      await store.putDoc(command.collection, command.key, command.value);
      return null;
  }
}

/**
 * Serve peer commands, one JSON line each, on `input`; answer on `output`.
 * A child process made by `childProcessPeer` calls this with its store.
 */
export function servePeer(store: StateStore, input: Readable = process.stdin, output: Writable = process.stdout): void {
  // A held lock never settles: keep the process alive until it is killed.
  setInterval(() => undefined, 60_000);
  const lines = createInterface({ input });
  lines.on("line", (line) => {
    const { id, command } = JSON.parse(line) as { id: number; command: PeerCommand };
    runPeerCommand(store, command).then(
      (result) => output.write(`${JSON.stringify({ id, result })}\n`),
      (error: unknown) => output.write(`${JSON.stringify({ id, error: error instanceof Error ? `${error.message} (${String((error as { code?: string }).code)})` : String(error) })}\n`),
    );
  });
  output.write(`${JSON.stringify({ ready: true })}\n`);
}

/** A peer in a child process: `command args` must open the store on the same data and call servePeer. */
export async function childProcessPeer(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<StorePeer & { pid: number }> {
  const child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"], env });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const closed = new Promise<void>((resolve) => child.once("close", () => resolve()));
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let nextId = 0;
  const ready = new Promise<void>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.on("line", (line) => {
      const reply = JSON.parse(line) as { ready?: boolean; id?: number; result?: unknown; error?: string };
      if (reply.ready) return resolve();
      const waiter = pending.get(reply.id ?? -1);
      pending.delete(reply.id ?? -1);
      if (reply.error !== undefined) waiter?.reject(new Error(`peer pid ${child.pid}: ${reply.error}`));
      else waiter?.resolve(reply.result);
    });
    void closed.then(() => {
      const error = new Error(`store peer ${command} ${args.join(" ")} ended: ${stderr}`);
      reject(error);
      for (const waiter of pending.values()) waiter.reject(error);
      pending.clear();
    });
  });
  await ready;
  return {
    pid: child.pid ?? -1,
    run(peerCommand) {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        child.stdin.write(`${JSON.stringify({ id, command: peerCommand })}\n`);
      });
    },
    async kill() {
      child.kill("SIGKILL");
      await closed;
    },
  };
}

/** A peer on another handle in this process; `kill` ends the handle without releasing anything (e.g. MemoryStore.crash). */
export function inProcessPeer(store: StateStore, kill: () => void | Promise<void>): StorePeer {
  return {
    run: (command) => runPeerCommand(store, command),
    kill: async () => {
      await kill();
    },
  };
}
