// A new user's trial through the built CLI (issue 14 review, fix5): a task
// that cannot complete is warned of before it hangs, the run id comes first,
// an interrupted run's result line is on stdout and says instances are running
// only when some are, and a resumed --keep run says it keeps its instances.
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { createEnv, type TestEnv } from "./helpers.js";

let env: TestEnv;
beforeAll(async () => {
  env = await createEnv();
});
afterAll(async () => {
  await env?.close();
});

test("tool completion on the echo agent: the dry run and the run's first lines warn; the run id comes before the run ends", async () => {
  await writeFile(path.join(env.workDir, "hang.yaml"), "workflow: hang\ntimeout: 1s\nsteps:\n  - id: impl\n    spawn: specialist\n    prompt: hi\n  - wait: all-complete\n");
  const dry = await env.run(["run", "hang.yaml", "--dry-run"]);
  expect(dry.code, dry.stderr).toBe(0);
  expect(dry.stdout).toContain('warning: hang.yaml:5:12: steps[0].spawn: step "impl" runs agent "echo" (adapter command), which cannot call the MCP tool complete on its own');

  const run = await env.run(["run", "hang.yaml"]);
  expect(run.code).toBe(1);
  const lines = run.stderr.split("\n");
  expect(lines[0]).toMatch(/^warning: hang\.yaml:5:12: steps\[0\]\.spawn: step "impl" runs agent "echo".*completion: turn-end/u);
  expect(lines[1]).toMatch(/^\[\+0ms\] run: started hang/u);
  expect(lines[2]).toMatch(/^run id (hang-\S+) \(tmux-claude replay hang-\S+; after a crash: tmux-claude run --resume hang-\S+\)$/u);
});

test("Ctrl-C of a run with no instance: the result line is on stdout and claims no running instances; --resume of a --keep run says it keeps them", async () => {
  const gate = path.join(env.dir, "gate-trial");
  const program = "const fs = require('fs'), f = process.argv[1]; if (!fs.existsSync(f)) fs.watch(require('path').dirname(f), () => fs.existsSync(f) && process.exit(0))";
  await writeFile(path.join(env.workDir, "gated.yaml"), `workflow: gated\nsteps:\n  - id: gate\n    run: [node, -e, ${JSON.stringify(program)}, ${JSON.stringify(gate)}]\n`);
  const child = env.start(["run", "gated.yaml", "--keep"]);
  let stderr = "";
  let stdout = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  const closed = new Promise<number | null>((resolve) => child.once("close", resolve));
  await new Promise<void>((resolve, reject) => {
    child.once("close", (code) => reject(new Error(`run ended (exit ${code}) before its step started:\n${stderr}`)));
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
      if (/gate: step started/u.test(stderr)) resolve();
    });
  });
  child.kill("SIGINT");
  expect(await closed).toBe(130);
  const id = /^run id (\S+)/mu.exec(stderr)![1]!;
  expect(stdout).toBe(`Run ${id} was interrupted; continue it: tmux-claude run --resume ${id}\n`);
  expect(stderr).not.toContain("was interrupted");

  await writeFile(gate, "");
  const resumed = await env.run(["run", "--resume", id]);
  expect(resumed.code, resumed.stderr).toBe(0);
  expect(resumed.stderr.split("\n")[0]).toBe(`Run ${id} was started with --keep: its instances are kept if it fails, as at its start (resume with --no-keep to end them then).`);
});
