// Which @tmux-claude/core the benchmark drives: the built workspace package, or
// (for performance experiments) another build given as BENCH_CORE=<path to its index.js>.
import path from "node:path";
import { pathToFileURL } from "node:url";

let core;
export function loadCore() {
  const spec = process.env.BENCH_CORE ? pathToFileURL(path.resolve(process.env.BENCH_CORE)).href : "@tmux-claude/core";
  core ??= import(spec);
  return core;
}
