/**
 * `notify(options)`: instance status changes and plugins' notices, sent to a
 * signed webhook, Slack and Discord. Taps only record the event (the sender
 * works in the background); `serve` also sends what other processes left.
 */
import { randomUUID } from "node:crypto";
import type { Plugin } from "@tmux-claude/core";
import { fromNotice, fromStatusChange } from "./event.js";
import { FailureLog } from "./failure-log.js";
import { PLUGIN_NAME, parseNotifyOptions, type NotifyOptions } from "./options.js";
import { Sender, type OutboxEntry } from "./sender.js";
import { createTransports } from "./transports.js";

export function notify(userOptions: NotifyOptions): Plugin {
  const options = parseNotifyOptions(userOptions);
  const on = new Set(options.on);
  return {
    name: PLUGIN_NAME,
    kernel: "^0.1.0",
    apply(ctx) {
      const transports = createTransports(options);
      const sender = new Sender({
        outbox: ctx.data<OutboxEntry>("outbox"),
        transports,
        logger: ctx.logger,
        failures: new FailureLog(ctx.logger, options.failureLogIntervalMs),
        owner: `${ctx.kernel.node}/${process.pid}/${randomUUID().slice(0, 8)}`,
        options,
      });
      // Sync taps that return at once: the kernel's parallel hooks never wait on an endpoint.
      ctx.hooks.statusChange.tap((change) => {
        if (on.has(change.to)) sender.add(fromStatusChange(change));
      });
      ctx.hooks.notice.tap((notice) => {
        if (on.has(notice.kind)) sender.add(fromNotice(notice));
      });
      // Not awaited: the sweep of the outbox runs in the background, so serve's start waits on neither its size nor the store.
      ctx.hooks.ready.tap(() => {
        if (ctx.mode === "serve") sender.recover();
      });
      ctx.onClose(() => sender.close());
      ctx.logger.debug({ endpoints: transports.map((t) => `${t.destination} (${t.host})`), on: [...on] }, "notify: sending");
    },
  };
}
