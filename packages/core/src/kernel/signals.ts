import { constants } from "node:os";

/** Signals that end a Node process by default and that a kernel should not die of without closing. */
const SIGNALS: readonly NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
/** How long a signalled process waits for its kernels to close before it dies anyway. */
const CLOSE_TIMEOUT_MS = 5_000;

interface Closable {
  close(): Promise<void>;
}

const open = new Set<Closable>();
let closing = false;

/**
 * Close `kernel` before the process dies of SIGINT, SIGTERM or SIGHUP, then
 * die of that signal as it would have (exit status 128 + n). A process that
 * listens for the signal itself owns its shutdown and is left alone (it calls
 * close()). Without this, a plain API script stopped with Ctrl-C would leave
 * its monitor session behind until the next kernel on the socket removes it.
 * Returns the function that forgets the kernel (on close).
 */
export function closeOnSignal(kernel: Closable): () => void {
  if (open.size === 0) for (const signal of SIGNALS) process.on(signal, onSignal);
  open.add(kernel);
  return () => {
    open.delete(kernel);
    if (open.size === 0 && !closing) for (const signal of SIGNALS) process.off(signal, onSignal);
  };
}

function onSignal(signal: NodeJS.Signals): void {
  if (process.listeners(signal).some((listener) => listener !== onSignal)) return;
  if (closing) return dieOf(signal); // a second signal: stop now
  closing = true;
  const timer = setTimeout(() => dieOf(signal), CLOSE_TIMEOUT_MS);
  void Promise.allSettled([...open].map((kernel) => kernel.close())).then(() => {
    clearTimeout(timer);
    dieOf(signal);
  });
}

function dieOf(signal: NodeJS.Signals): void {
  for (const name of SIGNALS) process.off(name, onSignal);
  process.kill(process.pid, signal);
  // Should the default action not end us (the signal is ignored), exit with its conventional status.
  setTimeout(() => process.exit(128 + (constants.signals[signal] ?? 0)), 100).unref();
}
