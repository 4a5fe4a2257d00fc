/** Store changes by any process, from inotify watches on the store's directories. */
import { type FSWatcher, watch as watchDir } from "node:fs";
import { ErrorCodes } from "../errors.js";
import { storeFailed } from "./file-io.js";
import type { StoreChange, StoreWatch } from "./store-contract.js";
import { guardListener } from "./watch-listener.js";

/** What a file name in one watched directory means. */
export type NameToChange = (name: string) => StoreChange | undefined;

/**
 * Watch `dirs` (which must exist). An inotify watch is in place when
 * `fs.watch` returns, so the watch is ready at once; `ready` still lets
 * callers treat every store alike.
 */
export function watchDirs(dirs: [dir: string, toChange: NameToChange][], listener: (change: StoreChange) => void, onStop: () => void): StoreWatch {
  let stopped = false;
  const guarded = guardListener(listener);
  const deliver = (change: StoreChange): void => {
    if (!stopped) guarded(change);
  };
  const watchers: FSWatcher[] = [];
  for (const [dir, toChange] of dirs) {
    let watcher: FSWatcher;
    try {
      // Renames into place arrive as an event for the final name (inotify IN_MOVED_TO).
      watcher = watchDir(dir, { persistent: false }, (_event, filename) => {
        if (typeof filename !== "string" || filename.endsWith(".tmp")) return;
        const change = toChange(filename);
        if (change) deliver(change);
      });
    } catch (error) {
      for (const opened of watchers) opened.close();
      return { ready: Promise.reject(storeFailed("watch", dir, error)), stop: () => undefined };
    }
    watcher.on("error", (error) => {
      process.emitWarning(`Watching ${dir} for tmux-claude store changes stopped: ${String(error)}`, {
        code: ErrorCodes.STORE_FAILED,
      });
    });
    watchers.push(watcher);
  }
  return {
    ready: Promise.resolve(),
    stop: () => {
      if (stopped) return;
      stopped = true;
      for (const watcher of watchers) watcher.close();
      onStop();
    },
  };
}

/** `<id>.json` in instances/ and claims/. */
export function jsonName(name: string): string | undefined {
  return name.endsWith(".json") ? name.slice(0, -".json".length) : undefined;
}

/** `<instanceId>@...json` in queue/. */
export function queueFileInstance(name: string): string | undefined {
  const at = name.indexOf("@");
  return at > 0 && name.endsWith(".json") ? name.slice(0, at) : undefined;
}
