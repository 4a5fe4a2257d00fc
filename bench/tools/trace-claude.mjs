// Timeline of a kernel.spawn of the real Claude Code (offline, stand-in model):
// the tmux commands, the moment the adapter's hook script wrote SessionStart
// (its own timestamp) and the status change, in ms since spawn() was called.
//   npx turbo run build && node bench/tools/trace-claude.mjs
import { claude } from "@tmux-claude/agent-claude";
import { claudeEnv, findClaudeBinary, prepareClaudeHome, StandInModel } from "@tmux-claude/testkit";
import { mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { startKernel } from "../lib/setup.mjs";
import { cleanupAll, now, tempDir } from "../lib/util.mjs";
const bin = await findClaudeBinary();
const dir = tempDir("trace-claude"); const work = path.join(dir, "work"); mkdirSync(work);
const model = await StandInModel.start();
const home = await prepareClaudeHome({ dir: path.join(dir, "home"), apiKey: "sk-ant-tmux-claude-bench-0123456789abcdefghijklmnop", trustedDirs: [work], settings: { skipDangerousModePermissionPrompt: false } });
const env = claudeEnv({ home, model, base: {} });
const k = await startKernel({ label: "trace-claude", plugins: [claude()], agents: { claude: { adapter: "claude", command: bin.path, env } } });
const rt = k.kernel.runtime;
let t0 = 0, w0 = 0, trace = [], captures = 0;
const orig = rt.command.bind(rt);
rt.command = async (...a) => { const s = now() - t0; try { return await orig(...a); } finally { if (a[0] === "capture-pane") captures++; else if (t0) trace.push([s.toFixed(1), (now() - t0).toFixed(1), a[0]]); } };
k.kernel.hooks.statusChange.tap("t", ({ to }) => t0 && trace.push([(now() - t0).toFixed(1), "", `status ${to}`]));
try {
for (let i = 0; i < 3; i++) {
  trace = []; captures = 0; t0 = now(); w0 = Date.now();
  const { instance } = await k.kernel.spawn({ role: "specialist", workDir: work, agent: "claude" });
  trace.push([(now() - t0).toFixed(1), "", "spawn returned"]);
  const ev = readFileSync(path.join(k.stateDir, "agents", instance.id, "events.jsonl"), "utf8").split("\n").filter(Boolean).map(JSON.parse);
  for (const e of ev) trace.push([(Date.parse(e.at) - w0).toFixed(0), "", `hook script wrote ${e.event} (Date ms)`]);
  t0 = 0;
  trace.sort((a, b) => a[0] - b[0]);
  if (i) { for (const l of trace) console.log(l.join("\t")); console.log(`capture-pane during spawn: ${captures}\n---`); }
  await k.kernel.terminate(instance.id);
}
} finally {
  await k.close(); await model.close(); await cleanupAll();
}
