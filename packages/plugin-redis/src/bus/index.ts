/**
 * The message bus between nodes (issue 13, part 2): operations on another
 * node's instance travel on Redis Streams to that node's `serve` and its
 * answer (or error) comes back. Wired into the plugin by `installBus`:
 *
 * - every kernel taps `route` and hands requests for other nodes to a
 *   BusCaller (its connections are opened at the first such request, so a
 *   CLI call that stays on its node opens none);
 * - a `serve` kernel reads its node's stream with a BusOwner from `ready` on
 *   and performs what arrives through `kernel.local.perform`.
 */
import type { PluginContext } from "@tmux-claude/core";
import type { Redis } from "ioredis";
import { openClient } from "../connection.js";
import { redactUrl, type ResolvedRedisOptions } from "../options.js";
import { BusCaller } from "./caller.js";
import { BusOwner } from "./owner.js";
import { busKeys } from "./wire.js";

export function installBus(ctx: PluginContext, options: ResolvedRedisOptions): void {
  const clients: Redis[] = [];
  let caller: Promise<BusCaller> | undefined;
  let owner: BusOwner | undefined;
  let closed = false;
  const keys = busKeys(options.prefix);

  /** A connected client; `blocking` for the one that waits in XREADGROUP BLOCK. */
  const open = async (blocking = false): Promise<Redis> => {
    const client = await openClient(options, blocking, (error) => ctx.logger.debug({ err: error }, "bus: redis connection error"));
    clients.push(client);
    return client;
  };

  const openCaller = async (): Promise<BusCaller> => {
    const [client, subscriber] = await Promise.all([open(), open()]);
    const { acceptTimeoutMs, resultTimeoutMs } = options.bus;
    return new BusCaller({ client, subscriber, keys, node: ctx.kernel.node, url: redactUrl(options.url), acceptTimeoutMs, resultTimeoutMs });
  };

  ctx.hooks.route.tapPromise(async (request) => {
    // This node's own instance: the kernel delivers it here.
    if (request.node === ctx.kernel.node) return undefined;
    caller ??= openCaller();
    caller.catch(() => {
      caller = undefined; // a failed connect is retried by the next request
    });
    return (await caller).request(request);
  });

  ctx.hooks.ready.tapPromise(async (kernel) => {
    if (ctx.mode !== "serve" || closed) return;
    const [client, reader] = await Promise.all([open(), open(true)]);
    owner = new BusOwner({ client, reader, keys, node: kernel.node, perform: (request) => kernel.local.perform(request), get: (id) => kernel.get(id), logger: ctx.logger });
    await owner.start();
  });

  ctx.onClose(async () => {
    closed = true;
    await owner?.stop();
    (await caller?.catch(() => undefined))?.close();
    for (const client of clients) client.disconnect();
  });
}
