// The page's actions are a person's operations: each one, refused ones too,
// reaches the audit log (plugin-audit, through the kernel's operation hook)
// as the root's, with no message text.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { expect, test } from "vitest";
import { audit, type AuditApi } from "@tmux-claude/plugin-audit";
import { action, csrfOf, login, startDashboard } from "./helpers.js";

test("dashboard actions are recorded in the audit log as the root's, failed ones with their code, without the text", async () => {
  const env = await startDashboard({ plugins: [audit()] });
  try {
    const { instance } = await env.harness.kernel.spawn({ role: "specialist", workDir: env.harness.workDir });
    const { cookie } = await login(env.loginUrl);
    const csrf = await csrfOf(env.origin, cookie);
    const sent = await action(env.origin, cookie, csrf, instance.id, "send", { text: "DASH-TEXT-81c0 from the page" });
    expect(sent.status, JSON.stringify(sent.json)).toBe(200);
    expect((await action(env.origin, cookie, csrf, instance.id, "send", { text: "" })).status).toBe(400);
    expect((await action(env.origin, cookie, csrf, instance.id, "terminate", {})).status).toBe(200);

    const log = env.harness.kernel.plugin<AuditApi>("audit")!;
    const { entries } = await log.read(env.harness.kernel.stateDir);
    expect(entries.map((e) => [e.surface, e.caller, e.operation, e.target, e.ok ? "ok" : e.error])).toEqual([
      ["dashboard", "root", "send", instance.id, "ok"],
      ["dashboard", "root", "send", instance.id, "TC_DASHBOARD_BAD_REQUEST"],
      ["dashboard", "root", "terminate", instance.id, "ok"],
    ]);
    expect(entries[0]!.args).toMatchObject({ textLength: "DASH-TEXT-81c0 from the page".length });
    expect(entries[0]!.result).toMatchObject({ state: "delivered" });
    expect(entries[2]!.result).toMatchObject({ terminated: [instance.id] });
    expect(await readFile(path.join(log.dir(env.harness.kernel.stateDir), "audit.jsonl"), "utf8")).not.toContain("DASH-TEXT");
  } finally {
    await env.close();
  }
});
