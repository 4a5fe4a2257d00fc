import { INSTANCE_STATUSES, type InstanceStatus } from "@tmux-claude/core";
import { z } from "zod";

// Arguments and results of the core tools. Arguments are strict objects, so a
// misspelled argument (`parentID`) is an error that names it instead of being
// silently dropped.

const statuses = INSTANCE_STATUSES as unknown as [InstanceStatus, ...InstanceStatus[]];
const instanceId = z.string().min(1);

export const spawnInput = z.strictObject({
  role: z.string().min(1).describe("Role of the new instance, from the config's roles (e.g. manager, specialist). Your role decides which roles you may spawn."),
  workDir: z
    .string()
    .min(1)
    .optional()
    .describe(
      "Directory the agent works in (absolute, or relative to its parent's). Default: the parent's working directory (yours when you are the parent). It must lie inside the parent's unless the role allows otherwise.",
    ),
  prompt: z.string().optional().describe("First message to the agent, delivered once it is ready."),
  context: z.string().optional().describe("Background sent before the prompt, in the same first message; without a prompt it is the first message."),
  parentId: instanceId.optional().describe("Parent of the new instance: you (the default) or one of your descendants."),
  name: z.string().optional().describe("A human-readable name shown in lists."),
  agent: z.string().min(1).optional().describe("Agent from the config's agents (default: defaultAgent)."),
  node: z
    .string()
    .min(1)
    .optional()
    .describe("Node (machine and tmux server) to run it on, as `list` shows nodes. Default: the config's node.placement (this node unless least-loaded)."),
  plugins: z
    .record(z.string(), z.unknown())
    .optional()
    .describe('Options for plugins, by plugin name, e.g. {"git": {"isolation": "shared"}}; each plugin checks its own.'),
  budget: z
    .strictObject({
      usd: z.number().nonnegative().optional().describe("US dollars, 0 or more."),
      tokens: z.int().nonnegative().optional().describe("Tokens of every kind summed, 0 or more."),
      action: z.enum(["pause", "stop", "notify"]).optional().describe("What happens when it is crossed (default: the config's limits.budget.action)."),
    })
    .optional()
    .describe("Budget of the new instance's subtree (it and everything it spawns): usd and/or tokens. A spawn into a subtree over its budget is refused."),
  reuse: z
    .literal("idle")
    .optional()
    .describe(
      'With "idle": reuse an idle instance of the role under the same parent (same agent and workDir, no children, nothing queued) after resetting its conversation (/clear for Claude Code), instead of starting a process. Without one, or for an agent that cannot reset, a new one is spawned.',
    ),
});

export const resumeInput = z.strictObject({
  instanceId: instanceId.describe("The paused instance to resume (one below you): what was queued for it is delivered, in order."),
});

export const sendInput = z.strictObject({
  instanceId: instanceId.describe("The instance to message (one you spawned, or below it)."),
  text: z.string().min(1).describe("The message, typed into the agent exactly as given."),
  whenBusy: z
    .enum(["queue", "now", "refuse"])
    .optional()
    .describe('If the agent is busy: "queue" (default; delivered when it is idle), "now" (type it in anyway) or "refuse" (fail).'),
  messageId: z
    .string()
    .optional()
    .describe("The message's id (default: a new one). Repeat a send whose answer you did not get with the same id: it is not delivered twice."),
  threadId: z.string().optional().describe("The conversation this message continues (a threadId a send returned). Default: the thread of replyTo's message, else a new thread."),
  replyTo: z.string().optional().describe("The id of the message this one answers (read with `with` shows ids)."),
});

export const readInput = z.strictObject({
  instanceId: instanceId.describe("The instance to read: one below you, or yourself (without wait)."),
  lines: z.int().min(1).max(10_000).optional().describe("Lines of screen to return (default 40)."),
  wait: z.boolean().optional().describe("Block until the agent's current turn ends (it is no longer starting or busy)."),
  timeoutMs: z.int().min(1).optional().describe("How long wait may block, in milliseconds (default 600000)."),
  with: instanceId.optional().describe("Also return the conversation between this instance and that one (messages both ways, oldest first, with ids and threads)."),
});

export const listInput = z.strictObject({
  role: z.string().min(1).optional().describe("Only instances of this role."),
  parentId: instanceId.optional().describe("Only direct children of this instance."),
  status: z.enum(statuses).optional().describe("Only instances in this status."),
  blocked: z.boolean().optional().describe("Only blocked instances: waiting on a question, in error, at a usage limit, or stalled (each with `blocked`: why)."),
});

export const terminateInput = z.strictObject({
  instanceId: instanceId.describe("The instance to end (one below you)."),
  cascade: z.boolean().optional().describe("Also end its descendants; without it an instance with running children is refused."),
  plugins: z
    .record(z.string(), z.unknown())
    .optional()
    .describe('Options for plugins, by plugin name, e.g. {"git": {"force": true}}; each plugin checks its own.'),
});

export const restartInput = z.strictObject({
  instanceId: instanceId.describe("The instance to relaunch (one below you); the conversation resumes where the agent can."),
});

export const progressInput = z.strictObject({
  done: z.int().describe("Steps finished, 0 up to total."),
  total: z.int().describe("All steps of your task, as you see them now (0 or more)."),
  current: z.string().optional().describe('The step you work on now, in a short line (at most 200 characters), e.g. "Writing tests".'),
  instanceId: instanceId.optional().describe("Only for the root caller: the instance whose progress this is. An instance reports its own; leave it out."),
});

export const getProgressInput = z.strictObject({
  instanceId: instanceId.optional().describe("Top of the subtree: yourself (the default) or an instance below you. The root caller without it gets every instance."),
});

export const progressShown = z.object({
  done: z.int(),
  total: z.int(),
  current: z.string().optional(),
  items: z.array(z.object({ text: z.string(), state: z.enum(["pending", "in_progress", "completed"]) })).optional(),
  /** Who reported it: the agent's adapter (its own task list, e.g. "claude") or "tool" (the progress tool). */
  source: z.string(),
  at: z.string(),
});

export const progressOutput = z.object({ instanceId: z.string(), progress: progressShown });

export const instanceOutput = z.object({
  id: z.string(),
  role: z.string(),
  parentId: z.string().nullable(),
  depth: z.int(),
  name: z.string().optional(),
  agent: z.string(),
  status: z.enum(statuses),
  statusReason: z.string().optional(),
  /** Status limited: when the usage limit resets (ISO time). */
  limitedUntil: z.string().optional(),
  workDir: z.string(),
  createdAt: z.string(),
  /** The node (machine and tmux server) it lives on. */
  node: z.string().optional(),
});

/** What plugins add to an instance (the kernel's `instanceFields` hook), by plugin name (`cost`), and their lines for people. */
const pluginFields = {
  fields: z.record(z.string(), z.unknown()).optional(),
  details: z.array(z.string()).optional(),
};

export const listedInstanceOutput = instanceOutput.extend({
  children: z.array(z.string()),
  ...pluginFields,
  /** Set when its node is down (lost or stopped): why it cannot be reached now; `status` is what its node last wrote. */
  unreachable: z.string().optional(),
  /** Set while its delivery is held (a budget's pause, the turn cap): why; messages to it wait in its queue. */
  paused: z.string().optional(),
  /** How far it says it is (its task list, or its progress reports). */
  progress: progressShown.optional(),
  /** Set when it is blocked: why (waiting on a question, error, usage limit, stalled). */
  blocked: z.string().optional(),
  /** Set while it is busy and flagged stalled: since when it was silent, and why. */
  stalled: z.object({ since: z.string(), why: z.string() }).optional(),
  /** Set for an idle instance of a warm pool (config pool): a spawn of its role under its parent takes it. */
  pooled: z.literal(true).optional(),
});

export const receiptOutput = z.object({
  messageId: z.string(),
  instanceId: z.string(),
  state: z.enum(["delivered", "queued"]),
  acceptedAt: z.string().optional(),
  position: z.int().optional(),
  threadId: z.string().optional(),
  /** Queued for a paused instance (a budget, the turn cap): why; it is delivered once the instance is resumed. */
  paused: z.string().optional(),
});

export const usageOutput = z.object({
  inputTokens: z.number(),
  outputTokens: z.number(),
  cacheCreationInputTokens: z.number(),
  cacheReadInputTokens: z.number(),
  model: z.string().optional(),
  /** The same tokens by model, where the agent's adapter can tell. */
  models: z.array(z.object({ model: z.string(), input: z.number(), output: z.number(), cacheWrite: z.number(), cacheRead: z.number(), longContext: z.boolean().optional() })).optional(),
});

export const spawnOutput = z.object({
  instance: instanceOutput,
  receipt: receiptOutput.optional(),
  source: z.enum(["cold", "pool", "reuse"]).describe("cold: a new process; pool: taken from a warm pool (config pool); reuse: an idle instance whose conversation was reset."),
});
export const sendOutput = receiptOutput;
export const readOutput = z.object({
  id: z.string(),
  status: z.enum(statuses),
  statusReason: z.string().optional(),
  /** Status limited: when the usage limit resets (ISO time). */
  limitedUntil: z.string().optional(),
  lastReply: z.string().optional(),
  screen: z.string(),
  queued: z.int(),
  usage: usageOutput.optional(),
  paused: z.string().optional(),
  /** With `with`: the messages between the two, oldest first. */
  conversation: z
    .array(z.object({ id: z.string(), from: z.string().nullable(), to: z.string(), text: z.string(), sentAt: z.string(), state: z.enum(["queued", "delivered"]), acceptedAt: z.string().optional(), threadId: z.string().optional(), replyTo: z.string().optional() }))
    .optional(),
  progress: progressShown.optional(),
  /** Set while it is busy and flagged stalled: since when it was silent, and why. */
  stalled: z.object({ since: z.string(), why: z.string() }).optional(),
  /** Set when it is blocked: why (waiting on a question, error, usage limit, stalled). */
  blocked: z.string().optional(),
  ...pluginFields,
});
export const listOutput = z.object({ instances: z.array(listedInstanceOutput) });
export const terminateOutput = z.object({ terminated: z.array(z.string()) });
export const restartOutput = z.object({ instance: instanceOutput });
export const resumeOutput = z.object({ instanceId: z.string(), resumed: z.boolean() });
export const getProgressOutput = z.object({
  rootId: z.string().nullable(),
  instances: z.array(z.object({ id: z.string(), role: z.string(), parentId: z.string().nullable(), status: z.enum(statuses), stalled: z.boolean().optional(), progress: progressShown.optional() })),
  done: z.int(),
  total: z.int(),
  withProgress: z.int(),
  withoutProgress: z.int(),
});
/** Plugin tools declare no result shape: any object. */
export const pluginOutput = z.looseObject({});
