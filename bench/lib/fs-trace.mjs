// For the tracers in tools/: time every fs.promises call the kernel makes.
import fs from "node:fs";
import { syncBuiltinESMExports } from "node:module";
import path from "node:path";
import { now } from "./util.mjs";

const CALLS = ["open", "readFile", "writeFile", "rename", "mkdir", "readdir", "rm", "rmdir", "unlink", "stat", "lstat", "link", "appendFile"];

/**
 * Wrap the fs.promises calls so each reports `mark(start, "fs.<call> <dir>/<file>")`
 * when it settles. fs.promises and node:fs/promises share one object;
 * syncBuiltinESMExports updates the named imports too. Call before the kernel loads.
 */
export function traceFsCalls(mark) {
  for (const name of CALLS) {
    const original = fs.promises[name];
    fs.promises[name] = async function (...args) {
      const start = now();
      try {
        return await original.apply(this, args);
      } finally {
        mark(start, `fs.${name} ${typeof args[0] === "string" ? path.basename(path.dirname(args[0])) + "/" + path.basename(args[0]).slice(0, 40) : ""}`);
      }
    };
  }
  syncBuiltinESMExports();
}
