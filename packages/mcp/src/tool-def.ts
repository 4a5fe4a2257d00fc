import type { Tool } from "@modelcontextprotocol/sdk/types.js";
import type { ToolCall } from "@tmux-claude/core";
import type { z } from "zod";
import type { Caller } from "./caller.js";

export interface ToolResult {
  structured: Record<string, unknown>;
  text: string;
}

/** One tool as this server serves it: core or plugin-contributed. */
export interface ToolDef {
  name: string;
  title?: string;
  description: string;
  input: z.ZodType;
  output: z.ZodType;
  annotations?: Tool["annotations"];
  /** May this caller see and call it? */
  allowed(caller: Caller): boolean;
  /** Why this caller may not use it. */
  refusal(caller: Caller): string;
  /** `call.signal`: aborted when the client cancels the call. */
  run(args: Record<string, unknown>, caller: Caller, call?: ToolCall): Promise<ToolResult>;
}
