import { Option, type Command } from "commander";
import type { DeliveryReceipt, WhenBusy } from "@tmux-claude/core";
import { positiveInt, readAll, usageError, type ActionFactory, type Cli } from "../context.js";
import { serveStatus } from "./serve.js";

interface SendFlags {
  whenBusy: WhenBusy;
  wait: boolean;
  timeout: number;
  messageId?: string;
  thread?: string;
  replyTo?: string;
  json?: boolean;
}

const DEFAULT_WAIT_MS = 600_000;

export function registerSend(program: Command, action: ActionFactory): void {
  program
    .command("send")
    .description("Type a message into an instance; prints whether it was delivered or queued, with its message and thread ids.")
    .argument("<id>", "instance id (see tmux-claude list)")
    .argument("[text...]", "the message (words are joined with spaces); '-' or none with piped stdin reads stdin as is")
    .addOption(
      new Option("--when-busy <mode>", "when the agent is busy: queue until idle, type it in now, or refuse").choices(["queue", "now", "refuse"]).default("queue"),
    )
    .option("--no-wait", "when the message is queued, return at once instead of waiting until it is delivered")
    .option("--timeout <ms>", "how long to wait for a queued message to be delivered", positiveInt("--timeout"), DEFAULT_WAIT_MS)
    .option("--message-id <id>", "the message's id (default: a new one); repeating a send with the same id does not deliver it twice")
    .option("--thread <id>", "the conversation it continues (a threadId a send printed with --json; see tmux-claude thread)")
    .option("--reply-to <messageId>", "the message it answers (default thread: that message's)")
    .option("--json", "print the receipt as JSON (with its messageId and threadId)")
    .addHelpText(
      "after",
      "\nA queued message is delivered by `tmux-claude serve` when one runs; otherwise send waits\nand delivers it itself as soon as the agent is idle (unless --no-wait).\n\nExamples:\n  tmux-claude send exec-1 Run the tests and report\n  git diff | tmux-claude send exec-1 -",
    )
    .action(action(send));
}

async function send(cli: Cli, id: string, words: string[], flags: SendFlags): Promise<number> {
  const text = await textFrom(cli, id, words);
  return cli.withKernel("send", async (kernel) => {
    const receipt = await cli.wait(`sending to ${id}...`, kernel.send(id, text, {
        whenBusy: flags.whenBusy,
        ...(flags.messageId !== undefined ? { messageId: flags.messageId } : {}),
        ...(flags.thread !== undefined ? { threadId: flags.thread } : {}),
        ...(flags.replyTo !== undefined ? { replyTo: flags.replyTo } : {}),
      }));
    // The ids `thread <id>`, --thread and --reply-to take, on every receipt line (as the MCP send's text has them).
    const ids = `message ${receipt.messageId}, thread ${receipt.threadId ?? receipt.messageId}`;
    if (receipt.state === "delivered") return report(cli, flags, receipt, `delivered (${ids})`);

    const position = `queued (position ${receipt.position ?? 1}, ${ids})`;
    // Paused (a budget, the turn cap): nothing is typed in until it is resumed, so there is nothing to wait for.
    if (receipt.paused !== undefined) return report(cli, flags, receipt, `${position}; ${id} is paused (${receipt.paused}): it is delivered once it is resumed (tmux-claude resume ${id})`);
    // Another node's instance is delivered by that node's serve, not by one here (the redis plugin's nodes).
    const { tmux: { node } } = await kernel.get(id);
    if (node !== undefined && node !== kernel.node) {
      return report(cli, flags, { ...receipt, deliveredBy: "serve" }, `${position}; the serve of node "${node}" delivers it when ${id} is idle`);
    }
    const serve = await serveStatus(kernel.stateDir);
    if (serve.running) {
      return report(cli, flags, { ...receipt, deliveredBy: "serve" }, `${position}; serve (pid ${serve.pid}) delivers it when ${id} is idle`);
    }
    if (!flags.wait) {
      return report(
        cli,
        flags,
        receipt,
        `${position}; no tmux-claude serve is running, so it is delivered when ${id} is idle and serve runs or another send waits. Start one with: tmux-claude serve`,
      );
    }
    await cli.wait(`waiting for ${id} to become idle...`, kernel.waitDelivered(receipt, flags.timeout));
    return report(cli, flags, { ...receipt, state: "delivered", position: undefined, queuedPosition: receipt.position }, `delivered (${ids})`);
  });
}

function report(cli: Cli, flags: SendFlags, receipt: DeliveryReceipt & { deliveredBy?: string; queuedPosition?: number }, line: string): number {
  cli.auditResult = { messageId: receipt.messageId, state: receipt.state, ...(receipt.position !== undefined ? { position: receipt.position } : {}) };
  if (flags.json) cli.json(receipt);
  else cli.out(line);
  return 0;
}

async function textFrom(cli: Cli, id: string, words: string[]): Promise<string> {
  const fromStdin = words.length === 0 || (words.length === 1 && words[0] === "-");
  if (!fromStdin) return words.join(" ");
  if (cli.io.stdin.isTTY) {
    throw usageError(`No message to send to "${id}". Give it as arguments (tmux-claude send ${id} Run the tests) or pipe it in (echo hi | tmux-claude send ${id} -).`, { id });
  }
  return readAll(cli.io.stdin);
}
