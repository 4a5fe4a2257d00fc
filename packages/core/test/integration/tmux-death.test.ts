// The tmux server dies at the worst moment of a send: after the text was typed,
// as the submit key is pressed. The send must fail with a TmuxClaudeError its
// caller catches, and nothing may be left to reject later, unhandled.
import { afterAll, beforeAll, expect, test } from "vitest";
import { commandAdapter, definePlugin, ErrorCodes, isTmuxClaudeError } from "../../src/index.js";
import { ECHO_AGENT, createHarness, eventually, type Harness } from "@tmux-claude/testkit";

/** Kills the tmux server (kill -9) just before the next submit key is pressed. */
const killer = { armed: false, serverPid: 0 };

/** The command adapter, with a pane whose sendKey first kills tmux when armed (real tmux, real kill). */
const fragile = definePlugin({
  name: "fragile-tmux",
  setup(ctx) {
    ctx.registerAdapter({
      name: "tmux-dies-on-submit",
      optionsSchema: commandAdapter.optionsSchema,
      launch: (launch) => commandAdapter.launch(launch),
      drive: (drive) =>
        commandAdapter.drive({
          ...drive,
          pane: {
            ...drive.pane,
            sendKey: async (key) => {
              if (killer.armed) {
                killer.armed = false;
                process.kill(killer.serverPid, "SIGKILL");
              }
              return drive.pane.sendKey(key);
            },
          },
        }),
    });
  },
});

let h: Harness;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => void unhandled.push(reason);
beforeAll(async () => {
  h = await createHarness(
    {
      limits: { spawnTimeout: 10_000, sendTimeout: 5_000 },
      defaultAgent: "fragile",
      agents: { fragile: { adapter: "tmux-dies-on-submit", command: process.execPath, args: [ECHO_AGENT] } },
      plugins: [fragile()],
    },
    { watch: "on-demand" },
  );
  process.on("unhandledRejection", onUnhandled);
});
afterAll(async () => {
  process.off("unhandledRejection", onUnhandled);
  await h?.close();
});

test("tmux killed between the text and the submit key: the send fails catchably, nothing rejects unhandled later", async () => {
  const { instance } = await h.kernel.spawn({ role: "executive", workDir: h.workDir });
  killer.serverPid = Number((await h.tmux("display-message", "-p", "#{pid}")).trim());
  killer.armed = true;
  const error = await h.kernel.send(instance.id, "hello").then(
    () => new Error("expected the send to fail"),
    (e: unknown) => e,
  );
  expect(isTmuxClaudeError(error), String(error)).toBe(true);
  expect((error as { code: string }).code).toMatch(/^TC_(TMUX_DISCONNECTED|SEND_FAILED|INSTANCE_EXITED)$/u);
  expect((error as Error).message).not.toMatch(/^\s+at /mu);
  // The kernel has let go of the instance (that is when a forgotten receipt wait would reject) and recorded its end.
  await eventually(async () => (await h.kernel.get(instance.id)).status === "exited", 10_000, "the instance to be marked exited");
  await new Promise((resolve) => setImmediate(resolve));
  expect(unhandled).toEqual([]);
  // The next operation reconnects and tells the truth.
  const next = await h.kernel.send(instance.id, "again").catch((e: unknown) => e);
  expect(next).toMatchObject({ code: ErrorCodes.INSTANCE_EXITED });
});
