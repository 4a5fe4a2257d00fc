// The Knowledge section's data with the knowledge plugin loaded: GET
// /api/knowledge and the socket's knowledge frames, current with every note
// recorded and every claim made or released (by any process).
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { knowledge, type KnowledgeApi } from "@tmux-claude/plugin-knowledge";
import type { KnowledgeView, ServerMessage } from "../src/protocol.js";
import { login, SocketClient, startDashboard, type DashboardEnv } from "./helpers.js";

let env: DashboardEnv;
let cookie: string;
beforeAll(async () => {
  env = await startDashboard({ plugins: [knowledge()] });
  ({ cookie } = await login(env.loginUrl));
});
afterAll(async () => env?.close());

const isKnowledge = (m: ServerMessage): m is Extract<ServerMessage, { type: "knowledge" }> => m.type === "knowledge";

describe("dashboard knowledge (knowledge plugin loaded)", () => {
  test("the socket and GET /api/knowledge show notes and claims as they change, in another process too", async () => {
    const socket = await SocketClient.connect(env.origin, { cookie });
    try {
      expect((await socket.next(isKnowledge)).knowledge).toEqual({ entries: [], claims: [] });
      const { harness } = env;
      const { instance } = await harness.kernel.spawn({ role: "specialist", workDir: harness.workDir });
      // Another process (a one-shot kernel) records and claims: the serving dashboard hears it through the store.
      const cli = await harness.startKernel({ watch: "on-demand", config: { plugins: [knowledge()] } });
      const api = cli.plugin<KnowledgeApi>("knowledge")!;
      await api.record(instance.id, instance.id, { key: "db", value: "Postgres 16, migrations in db/", tags: ["infra"] });
      await api.claim(instance.id, { paths: ["db/**"] });
      const frame = await socket.next((m) => isKnowledge(m) && m.knowledge.claims.length === 1 && m.knowledge.entries.length === 1, 10_000, "the note and the claim");
      const shown = (frame as Extract<ServerMessage, { type: "knowledge" }>).knowledge;
      expect(shown.entries).toEqual([{ hierarchy: instance.id, key: "db", value: "Postgres 16, migrations in db/", tags: ["infra"], by: instance.id, at: expect.any(String), version: 1 }]);
      expect(shown.claims).toEqual([{ hierarchy: instance.id, instanceId: instance.id, paths: ["db/**"], at: expect.any(String), waiting: false }]);
      const response = await fetch(`${env.origin}/api/knowledge`, { headers: { cookie } });
      expect(response.status).toBe(200);
      expect((await response.json()) as KnowledgeView).toEqual(shown);
      // Terminated: its claim ends, and the page hears that too.
      await cli.terminate(instance.id);
      await socket.next((m) => isKnowledge(m) && m.knowledge.claims.length === 0, 10_000, "the claim gone");
    } finally {
      socket.ws.close();
    }
  });

  test("GET /api/knowledge needs the session", async () => {
    expect((await fetch(`${env.origin}/api/knowledge`)).status).toBe(401);
  });
});
