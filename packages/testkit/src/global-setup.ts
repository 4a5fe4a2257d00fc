// Gives this vitest run an id that its test sockets carry (sockets.ts) and,
// when the run ends (also after failed or timed-out tests), removes every tmux
// server and client on those sockets. Other engineers' concurrent runs have
// other ids and are left alone.
import { randomBytes } from "node:crypto";
import { removeRun } from "./sockets.js";

export default function setup(): () => Promise<void> {
  // Workers are started after this and inherit the environment.
  const run = (process.env.TC_TEST_RUN ||= randomBytes(4).toString("hex"));
  return async () => {
    // A test that fails or times out may not reach its own clean-up; say what was left, so it can be fixed.
    const left = await removeRun(run);
    if (left.length) console.warn(`removed ${left.length} tmux process(es) left by tests:\n${left.map((p) => `  ${p.pid} ${p.argv.join(" ")}`).join("\n")}`);
  };
}
