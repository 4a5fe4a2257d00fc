/**
 * Every tool call is told to the kernel's `operation` hook (the audit log),
 * refusals and failures too: who tried what matters most when it was refused.
 */
import type { KernelApi } from "@tmux-claude/core";
import type { Caller } from "./caller.js";

/** What a tool call came to: its answer, or its error's code and message. */
export type CallOutcome = { structured: Record<string, unknown>; text: string } | { error: { code: string; message: string } };

export function failed(code: string, message: string): CallOutcome {
  return { error: { code, message } };
}

/** Run the call, then record it as `caller`'s; the outcome is the call's, whatever the record's taps do. */
export async function recordedCall(kernel: KernelApi, caller: Caller, name: string, args: Record<string, unknown>, call: () => Promise<CallOutcome>): Promise<CallOutcome> {
  const started = Date.now();
  const outcome = await call();
  const target = targetOf(args);
  await kernel.recordOperation({
    caller: caller.instanceId ?? caller.inInstance ?? null,
    role: caller.role,
    surface: "mcp",
    operation: name,
    ...(target !== undefined ? { target } : {}),
    args,
    ...("error" in outcome ? { error: outcome.error } : { result: outcome.structured }),
    at: new Date(started).toISOString(),
    durationMs: Date.now() - started,
  });
  return outcome;
}

/** The instance (or run) a call acts on, by the argument names the tools use. */
function targetOf(args: Record<string, unknown>): string | undefined {
  for (const key of ["instanceId", "parentId", "runId", "id"]) {
    if (typeof args[key] === "string") return args[key];
  }
  return undefined;
}
