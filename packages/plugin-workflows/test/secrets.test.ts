// A secret for a run: step: `env: { NAME: { fromEnv: VAR } }` reads the
// runner's own variable at step start; it reaches the command and nothing
// else (no journal line, no run document, no progress event, no plan).
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, expect, test } from "vitest";
import { formatPlan, parseWorkflow, planWorkflow, type JournalEvent } from "../src/index.js";
import { workflowHarness } from "./helpers.js";

let h: Awaited<ReturnType<typeof workflowHarness>> | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
  delete process.env.WF_TEST_SECRET;
});

const yaml = (out: string) => `workflow: deploy
steps:
  - id: push
    run: [node, -e, "require('fs').writeFileSync(process.argv[1], process.env.TOKEN)", ${JSON.stringify(out)}]
    env:
      TOKEN: { fromEnv: WF_TEST_SECRET }
      PLAIN: visible
`;

test("a { fromEnv } value reaches the command and appears in no journal line, run document, progress event or plan", async () => {
  h = await workflowHarness("wf-secret");
  const secret = `s3cr3t-${randomBytes(8).toString("hex")}`;
  process.env.WF_TEST_SECRET = secret;
  const out = path.join(h.dir, "token.out");
  const workflow = parseWorkflow(yaml(out), "deploy.yaml");
  const events: JournalEvent[] = [];
  const result = await h.api.run({ workflow, workDir: h.workDir, onEvent: (e) => events.push(e) });
  expect(result.state).toBe("succeeded");
  expect(await readFile(out, "utf8")).toBe(secret);

  const journal = await readFile(result.journal, "utf8");
  expect(journal).toContain('"type":"command"');
  expect(journal).not.toContain(secret);
  // `run --json` prints these events; `runs --json` the run documents.
  expect(JSON.stringify(events)).not.toContain(secret);
  expect(JSON.stringify(await h.api.runs())).not.toContain(secret);
  const plan = formatPlan(planWorkflow(workflow, h.kernel.config, {}));
  expect(plan).toContain("env TOKEN from the runner's $WF_TEST_SECRET (secret: not shown, journaled or stored)");
  expect(plan).not.toContain(secret);
});

test("a { fromEnv } variable the runner's environment lacks fails the step, naming the key, the variable and the fix", async () => {
  h = await workflowHarness("wf-secret-missing");
  const result = await h.api.run({ workflow: parseWorkflow(yaml(path.join(h.dir, "never.out")), "deploy.yaml"), workDir: h.workDir });
  expect(result).toMatchObject({
    state: "failed",
    failure: {
      step: "push",
      reason: 'env.TOKEN of step "push" is { fromEnv: WF_TEST_SECRET }, and the runner\'s environment has no WF_TEST_SECRET; set it where tmux-claude run starts (WF_TEST_SECRET=... tmux-claude run ...), or --resume from a shell that has it',
    },
  });
});

test("a { fromEnv } naming no variable is refused when the file is read, with its line and column", () => {
  expect(() => parseWorkflow("workflow: w\nsteps:\n  - run: [true]\n    env:\n      TOKEN: { fromEnv: \"no such\" }\n", "w.yaml")).toThrow(/w\.yaml:5:/u);
});
