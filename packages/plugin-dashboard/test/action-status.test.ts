// What the page hears when an action does not fit the instance's state: a 409
// with words for the page (not a 500 that reads like a server crash), chosen by
// the kernel error's code; and a Host refusal that names the real port.
import { expect, test } from "vitest";
import { eventually } from "@tmux-claude/testkit";
import { action, csrfOf, login, rawRequest, startDashboard } from "./helpers.js";

test("send to an exited instance is a 409 that offers Restart; terminate with children is a 409, not a 500", async () => {
  const env = await startDashboard();
  try {
    const { kernel, workDir } = env.harness;
    const { cookie } = await login(env.loginUrl);
    const csrf = await csrfOf(env.origin, cookie);
    const { instance: parent } = await kernel.spawn({ role: "manager", workDir });
    await kernel.spawn({ role: "specialist", parentId: parent.id, workDir });
    const refused = await action(env.origin, cookie, csrf, parent.id, "terminate", {});
    expect(refused.status, JSON.stringify(refused.json)).toBe(409);
    expect(refused.json.error.code).toBe("TC_HAS_CHILDREN");

    const { instance } = await kernel.spawn({ role: "specialist", workDir });
    await kernel.send(instance.id, "/exit");
    await eventually(async () => (await kernel.get(instance.id)).status === "exited", 10_000, "the exit");
    const sent = await action(env.origin, cookie, csrf, instance.id, "send", { text: "hello?" });
    expect(sent.status).toBe(409);
    expect(sent.json.error).toMatchObject({ code: "TC_INSTANCE_EXITED" });
    expect(sent.json.error.message).toContain("Restart it first (Restart)");
  } finally {
    await env.close();
  }
});

test("a foreign Host is told the dashboard's real port", async () => {
  const env = await startDashboard();
  try {
    const refused = await rawRequest(env.origin, "/", { host: "evil.example:80" });
    expect(refused.status).toBe(403);
    expect(refused.body).toContain(`http://127.0.0.1:${env.address.port}/`);
    expect(refused.body).not.toContain("<port>");
  } finally {
    await env.close();
  }
});
