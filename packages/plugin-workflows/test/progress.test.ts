import { readFileSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { createProgress, progressMode } from "../src/progress/index.js";
import type { JournalEvent } from "../src/types.js";

const events: JournalEvent[] = readFileSync(new URL("./fixtures/seed-run.jsonl", import.meta.url), "utf8")
  .split("\n")
  .filter((line) => line !== "")
  .map((line) => JSON.parse(line) as JournalEvent);

function sink(isTTY = false) {
  const writes: string[] = [];
  return { writes, stream: { isTTY, columns: 120, write: (chunk: string) => writes.push(chunk) } };
}

describe("progress", () => {
  test("the mode follows the stream and --json", () => {
    expect(progressMode({ write: () => true, isTTY: true }, false)).toBe("tty");
    expect(progressMode({ write: () => true }, false)).toBe("plain");
    expect(progressMode({ write: () => true, isTTY: true }, true)).toBe("json");
  });

  test("--json: every event, one JSON line each", () => {
    const { writes, stream } = sink();
    const progress = createProgress(stream, "json");
    for (const event of events) progress.event(event);
    progress.close();
    expect(writes.map((line) => JSON.parse(line) as JournalEvent)).toEqual(events);
    expect(writes.every((line) => line.endsWith("}\n") && !line.slice(0, -1).includes("\n"))).toBe(true);
  });

  test("plain: one line per event that says something, no status or usage lines", () => {
    const { writes, stream } = sink();
    const progress = createProgress(stream, "plain");
    for (const event of events) progress.event(event);
    expect(writes).toContain("[+1.8s] mgr-1: spawned as manager for step-1 task 1, under the top level\n");
    expect(writes).toContain("[+24s] run: run succeeded after 24s\n");
    expect(writes.some((line) => line.includes("idle -> busy"))).toBe(false);
    // And the run id, right after the run's start.
    expect(writes[1]).toBe(`run id ${events[0]!.run} (tmux-claude replay ${events[0]!.run}; after a crash: tmux-claude run --resume ${events[0]!.run})\n`);
    expect(writes).toHaveLength(events.filter((event) => event.type !== "status" && event.type !== "usage").length + 1);
    progress.log("warn [git]: kept");
    expect(writes.at(-1)).toBe("warn [git]: kept\n");
  });

  test("a usage limit is said (plain and tty), with its reset: the run waits for it and must not look hung", () => {
    const started = events[0]!;
    const limit = { type: "status", run: started.run, at: started.at, instanceId: "mgr-1", from: "busy", to: "limited", until: "2026-12-05T08:00:00.000Z" } as JournalEvent;
    for (const mode of ["plain", "tty"] as const) {
      const { writes, stream } = sink(mode === "tty");
      const progress = createProgress(stream, mode);
      progress.event(started);
      progress.event(limit);
      expect(writes.join("")).toContain("mgr-1: busy -> limited: usage limit until 2026-12-05T08:00:00.000Z; the task waits for it");
      progress.close();
    }
  });

  describe("tty", () => {
    beforeEach(() => {
      vi.useFakeTimers({ now: Date.parse("2026-12-05T07:00:00.000Z") });
    });
    afterEach(() => {
      vi.useRealTimers();
    });

    test("redrawn in place, throttled, a 1 Hz clock only while a step runs, no timer once nothing runs", () => {
      const { writes, stream } = sink(true);
      const progress = createProgress(stream, "tty", { throttleMs: 100 });
      // The first five events arrive at once: one frame for all of them.
      for (const event of events.slice(0, 5)) progress.event(event);
      expect(writes).toHaveLength(0);
      vi.advanceTimersByTime(0);
      expect(writes).toHaveLength(1);
      expect(writes[0]).toMatch(/^\u001b\[J/u);
      expect(writes[0]).toContain(" ▶ step-1  spawn manager                   running   1/1 up, 0 done  0ms\n");
      expect(writes[0]).toContain(" · step-2  spawn specialist x3             pending\n");
      // A step runs: the clock redraws once a second and moves back over the 5 lines drawn.
      vi.setSystemTime(Date.parse("2026-12-05T07:00:01.000Z"));
      vi.advanceTimersByTime(1000);
      expect(writes).toHaveLength(2);
      expect(writes[1]!.startsWith("\u001b[5F\u001b[J")).toBe(true);
      // The rest of the run: many events, few frames.
      vi.setSystemTime(Date.parse(events.at(-1)!.at));
      for (const event of events.slice(5)) progress.event(event);
      vi.advanceTimersByTime(100);
      const last = writes.at(-1)!;
      expect(last).toContain("feature-development feature-development-20261205-070000-a1b2  succeeded  24s  8.3k tokens");
      expect(last).toContain(" ✔ step-2  spawn specialist x3             succeeded 3/3 up, 3 done  2.7s  6.8k tok");
      expect(writes.length).toBeLessThan(5);
      // Nothing runs any more: no timer is left.
      expect(vi.getTimerCount()).toBe(0);
      progress.close();
      expect(vi.getTimerCount()).toBe(0);
    });

    test("a run that never started draws nothing", () => {
      const { writes, stream } = sink(true);
      createProgress(stream, "tty").close();
      expect(writes).toEqual([]);
      expect(vi.getTimerCount()).toBe(0);
    });

    const frame = (writes: string[]) => writes.at(-1)!.replace(/^(\u001b\[\d+F)?\u001b\[J/u, "").split("\n").filter((line) => line !== "");

    test("a resumed run starts from its journal: a step that succeeded before shows so, not pending", () => {
      const resumed: JournalEvent[] = readFileSync(new URL("./fixtures/failed-resumed-run.jsonl", import.meta.url), "utf8")
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => JSON.parse(line) as JournalEvent);
      const restart = resumed.findIndex((e, i) => i > 0 && e.type === "run-started");
      const { writes, stream } = sink(true);
      const progress = createProgress(stream, "tty");
      progress.earlier(resumed.slice(0, restart));
      // Nothing drawn from history alone.
      vi.advanceTimersByTime(0);
      expect(writes).toEqual([]);
      vi.setSystemTime(Date.parse(resumed[restart + 2]!.at));
      for (const event of resumed.slice(restart, restart + 3)) progress.event(event);
      vi.advanceTimersByTime(0);
      const lines = frame(writes);
      expect(lines.find((line) => line.includes(" lint "))).toMatch(/^ ✔ lint\s+run npm run lint\s+succeeded 901ms$/u);
      // The step the killed runner had under way runs again, timed from its restart (its last attempt, as the replay measures it).
      expect(lines.find((line) => line.includes(" build "))).toMatch(/^ ▶ build\s+spawn specialist\s+running\s+1\/1 up, 0 done {2}10ms {2}2.5k tok$/u);
      progress.close();
    });

    test("Ctrl-C: a step still running when the run is interrupted shows stopped, its clock stopped", () => {
      const { writes, stream } = sink(true);
      const progress = createProgress(stream, "tty");
      for (const event of events.slice(0, 2)) progress.event(event);
      const run = events[0]!.run;
      progress.event({ at: "2026-12-05T07:00:05.000Z", run, type: "run-finished", state: "interrupted", durationMs: 5000 });
      vi.setSystemTime(Date.parse("2026-12-05T07:01:00.000Z"));
      progress.close();
      const lines = frame(writes);
      expect(lines[0]).toContain("  interrupted  5.0s");
      expect(lines[1]).toMatch(/^ ■ step-1\s+spawn manager\s+stopped\s+0\/1 up, 0 done {2}\d/u);
      expect(lines.some((line) => line.includes("running"))).toBe(false);
      expect(lines[1]).not.toContain("1m");
    });

    test("a pty that reports 0 columns (or none) gets 80: lines are not cut to 20", () => {
      for (const columns of [0, undefined]) {
        const { writes, stream } = sink(true);
        Object.assign(stream, { columns });
        const progress = createProgress(stream, "tty");
        for (const event of events.slice(0, 2)) progress.event(event);
        progress.close();
        const lines = frame(writes);
        expect(lines[0]).toBe(`feature-development ${events[0]!.run}  running  0ms`);
        expect(Math.max(...lines.map((line) => line.length))).toBeGreaterThan(40);
        expect(lines.every((line) => line.length <= 76)).toBe(true);
      }
    });

    test("a log line goes above the live list, which is drawn again below it (raw lines between frames broke it)", () => {
      const { writes, stream } = sink(true);
      const progress = createProgress(stream, "tty");
      // Before anything was drawn: just the line.
      progress.log("warn [git]: early");
      expect(writes).toEqual(["warn [git]: early\n"]);
      for (const event of events.slice(0, 2)) progress.event(event);
      vi.advanceTimersByTime(0);
      const drawn = frame(writes).length;
      progress.log("warn [git]: kept the worktree of spec-1");
      const last = writes.at(-1)!;
      expect(last.startsWith(`\u001b[${drawn}F\u001b[Jwarn [git]: kept the worktree of spec-1\n`)).toBe(true);
      expect(last.split("\n").filter((line) => line !== "")).toHaveLength(drawn + 1);
      // The next frame moves up over the list only, not the log line.
      progress.event(events[2]!);
      vi.advanceTimersByTime(100);
      expect(writes.at(-1)!.startsWith(`\u001b[${drawn}F\u001b[J`)).toBe(true);
      progress.close();
      progress.log("after close");
      expect(writes.at(-1)).toBe("after close\n");
    });

    test("lines are cut to the terminal's width, so wrapping never breaks the cursor moves", () => {
      const { writes, stream } = sink(true);
      stream.columns = 30;
      const progress = createProgress(stream, "tty");
      for (const event of events.slice(0, 2)) progress.event(event);
      progress.close();
      const lines = writes.at(-1)!.replace(/^\u001b\[J/u, "").split("\n").filter((line) => line !== "");
      expect(lines.every((line) => line.length <= 29)).toBe(true);
      expect(vi.getTimerCount()).toBe(0);
    });
  });
});
