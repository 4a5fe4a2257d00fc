// The Runs endpoints and socket frames with the workflows plugin loaded: a
// real run (echo agent, a failing `run:` step) read back through /api/runs,
// its journal, the live frames, auth, 404s and what must not be shown.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { RunJournalView, RunView, ServerMessage } from "../src/protocol.js";
import { login, rawRequest, SocketClient, startDashboard, type DashboardEnv } from "./helpers.js";
import { FileStore } from "@tmux-claude/core";
import { RUNS_COLLECTION } from "../src/model/runs.js";
import { SECRET, startTiny, workflows, workflowsApi } from "./workflow-fixture.js";

let env: DashboardEnv;
let cookie: string;
let runId: string;
/** The finished run's document, as the workflows plugin stored it. */
let stored: Record<string, unknown>[];

const get = async (path: string, headers: Record<string, string> = { cookie }) => {
  const response = await fetch(`${env.origin}${path}`, { headers });
  return { status: response.status, text: await response.text() };
};

beforeAll(async () => {
  env = await startDashboard({ plugins: [workflows()] });
  ({ cookie } = await login(env.loginUrl));
  const run = await startTiny(env.harness);
  runId = run.id;
  expect(await run.done).toMatchObject({ state: "failed", failure: { step: "test" } });
  stored = (await workflowsApi(env.harness).runs()) as unknown as Record<string, unknown>[];
});
afterAll(async () => env?.close());

describe("dashboard runs (workflows loaded)", () => {
  test("without the session cookie /api/runs and a journal are 401", async () => {
    for (const path of ["/api/runs", `/api/runs/${runId}/journal`]) {
      const response = await get(path, {});
      expect(response.status, path).toBe(401);
      expect(JSON.parse(response.text).error.code).toBe("TC_DASHBOARD_UNAUTHORIZED");
    }
  });

  test("GET /api/runs: the run with its state, times, failed step and reason, steps and tasks; no variable values", async () => {
    const response = await get("/api/runs");
    expect(response.status).toBe(200);
    expect(response.text).not.toContain(SECRET);
    const runs = JSON.parse(response.text) as RunView[];
    expect(runs).toHaveLength(1);
    const [run] = runs;
    expect(run).toMatchObject({ id: runId, workflow: "tiny", source: "tiny.yaml", state: "failed", node: env.harness.kernel.node });
    expect(run!.failure?.step).toBe("test");
    expect(run!.failure?.reason).toMatch(/exit(ed)? (with )?(code )?3|2 tests failed/u);
    expect(run!.durationMs).toBe(Date.parse(run!.endedAt!) - Date.parse(run!.startedAt));
    expect(run!.steps.map((s) => [s.id, s.kind, s.state])).toEqual([
      ["build", "spawn", "succeeded"],
      ["check", "wait", "succeeded"],
      ["test", "run", "failed"],
    ]);
    expect(run!.steps[2]!.reason).toBe(run!.failure!.reason);
    expect(run!.tasks).toMatchObject([{ step: "build", index: 0, state: "completed" }]);
  });

  test("GET /api/runs/:id/journal: every event in order, run-started without the workflow's env or the variables' values", async () => {
    const response = await get(`/api/runs/${runId}/journal`);
    expect(response.status).toBe(200);
    expect(response.text).not.toContain(SECRET);
    const body = JSON.parse(response.text) as RunJournalView;
    expect(body.run.id).toBe(runId);
    const types = body.events.map((e) => e.type);
    expect(types[0]).toBe("run-started");
    expect(types.at(-1)).toBe("run-finished");
    expect(types).toEqual(expect.arrayContaining(["step-started", "spawned", "task-completed", "step-finished", "command"]));
    expect(body.events[0]).toMatchObject({ vars: ["token", "work"], workflow: { name: "tiny", steps: [{ id: "build", kind: "spawn" }, { id: "check", kind: "wait" }, { id: "test", kind: "run", needs: ["check"] }] } });
    const failed = body.events.find((e) => e.type === "step-finished" && e.step === "test");
    expect(failed).toMatchObject({ state: "failed", reason: body.run.failure!.reason });
    for (const event of body.events) expect(Date.parse(event.at)).not.toBeNaN();
  });

  test("an unknown run is a 404 naming it; an id is never a path", async () => {
    const response = await get("/api/runs/no-such-run/journal");
    expect(response.status).toBe(404);
    const error = JSON.parse(response.text).error as { code: string; message: string };
    expect(error.code).toBe("TC_DASHBOARD_NOT_FOUND");
    expect(error.message).toContain('"no-such-run"');
    const traversal = await rawRequest(env.origin, "/api/runs/..%2f..%2fdashboard/journal", { host: new URL(env.origin).host, cookie });
    expect(traversal.status).toBe(404);
  });

  test("a run of another node whose journal is not here: listed, and its journal is a 404 naming that node", async () => {
    // As a runner on another node writes it to a shared store (Redis): the same document, its own node and path.
    const store = new FileStore(env.harness.stateDir);
    await store.init();
    try {
      await store.updateDoc<Record<string, unknown>>(RUNS_COLLECTION, "elsewhere-run", () => {
        const [mine] = stored;
        return { ...mine, id: "elsewhere-run", runner: { node: "node-b", pid: 1, host: "b" }, journal: "/nowhere/elsewhere-run.jsonl" };
      });
    } finally {
      await store.close();
    }
    await env.api.settled();
    const runs = JSON.parse((await get("/api/runs")).text) as RunView[];
    expect(runs.find((r) => r.id === "elsewhere-run")).toMatchObject({ node: "node-b", state: "failed" });
    const response = await get("/api/runs/elsewhere-run/journal");
    expect(response.status).toBe(404);
    expect(JSON.parse(response.text).error.message).toMatch(/is a file on node "node-b".*tmux-claude replay elsewhere-run/u);
    await store.init();
    await store.updateDoc(RUNS_COLLECTION, "elsewhere-run", () => undefined);
    await store.close();
    await env.api.settled();
    expect((JSON.parse((await get("/api/runs")).text) as RunView[]).map((r) => r.id)).toEqual([runId]);
  });

  test("the socket sends the runs after the snapshot, then a started run's changes and its journal's growth as they happen", async () => {
    const socket = await SocketClient.connect(env.origin, { cookie });
    const first = await socket.next((m): m is Extract<ServerMessage, { type: "runs" }> => m.type === "runs");
    expect(socket.messages[0]?.type).toBe("snapshot");
    expect(first.runs.map((r) => r.id)).toContain(runId);
    const second = await startTiny(env.harness);
    const running = await socket.next((m) => m.type === "run" && m.run.id === second.id && m.run.state === "running", 10_000, "the new run, running");
    expect(running).toBeTruthy();
    await socket.next((m) => m.type === "journal" && m.id === second.id, 10_000, "its journal growing");
    await second.done;
    const finished = await socket.next((m) => m.type === "run" && m.run.id === second.id && m.run.state === "failed", 10_000, "the new run, failed");
    expect(finished).toMatchObject({ run: { failure: { step: "test" } } });
    // run-finished is written after the final state: a journal frame still follows it.
    const at = socket.messages.indexOf(finished);
    await socket.next((m) => m.type === "journal" && m.id === second.id, 10_000, "the journal's last lines", at + 1);
    socket.close();
  });
});

test("without the workflows plugin: /api/runs is a 404 saying how to load it, and the socket sends no runs", async () => {
  const plain = await startDashboard();
  try {
    const { cookie: plainCookie } = await login(plain.loginUrl);
    const response = await fetch(`${plain.origin}/api/runs`, { headers: { cookie: plainCookie } });
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: { message: string } }).error.message).toContain("workflows()");
    const socket = await SocketClient.connect(plain.origin, { cookie: plainCookie });
    await socket.next((m) => m.type === "snapshot");
    expect(socket.messages.some((m) => m.type === "runs")).toBe(false);
    socket.close();
  } finally {
    await plain.close();
  }
});
