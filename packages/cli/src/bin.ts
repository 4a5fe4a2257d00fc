#!/usr/bin/env node
import { constants } from "node:os";

const interrupt = new AbortController();
let signals = 0;
const onSignal = (signal: NodeJS.Signals) => {
  // The first signal lets the command stop cleanly; a second one stops now.
  if (++signals > 1) process.exit(128 + (constants.signals[signal] ?? 0));
  interrupt.abort(signal);
};
process.on("SIGINT", onSignal);
process.on("SIGTERM", onSignal);

// `tmux-claude list | head`: a reader that went away is not an error of ours.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw error;
  });
}

// Loaded after the handlers are in place: a Ctrl-C while the modules load (seconds on a busy machine) is still an interrupt (exit 130), not a kill.
const { main } = await import("./main.js");
const code = await main(process.argv, { signal: interrupt.signal });
process.exitCode = code;
// Everything is closed by now; if a handle still holds the event loop, do not hang the shell.
setTimeout(() => process.exit(code), 2_000).unref();
