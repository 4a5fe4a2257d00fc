import type { Command } from "commander";
import { ErrorCodes, MESSAGE_HISTORY_LIMIT, MESSAGE_ID, TmuxClaudeError, threadMessages, type ThreadMessage } from "@tmux-claude/core";
import { usageError, type ActionFactory, type Cli } from "../context.js";
import { table } from "../output.js";

export function registerThread(program: Command, action: ActionFactory): void {
  program
    .command("thread")
    .description("Show a conversation thread's messages in order: from, to, time, state and text.")
    .argument("<threadId>", "the thread's id (a send's threadId: the id of the thread's first message)")
    .option("--json", "print the messages as JSON")
    .addHelpText(
      "after",
      `\nA thread is read from the instances' inboxes, which keep each instance's last ${MESSAGE_HISTORY_LIMIT} messages\nwhile its record exists: older messages, and those to terminated instances, are not shown.`,
    )
    .action(action(thread));
}

async function thread(cli: Cli, threadId: string, flags: { json?: boolean }): Promise<number> {
  // A misspelt id is a usage error (as send --thread's), not "no message kept", and needs no kernel.
  if (!MESSAGE_ID.test(threadId)) {
    throw usageError(
      `${JSON.stringify(threadId)} is not a thread id: a thread id is a message id (1-128 letters, digits, '.', '_', ':' or '-' starting with a letter or digit). Use the threadId a send printed.`,
      { threadId },
    );
  }
  return cli.withKernel("thread", async (kernel) => {
    const messages = threadMessages(await kernel.list(), threadId);
    if (messages.length === 0) {
      throw new TmuxClaudeError(
        ErrorCodes.THREAD_NOT_FOUND,
        `No message of thread "${threadId}" is kept: no instance's last ${MESSAGE_HISTORY_LIMIT} messages have it. Check the id (a send's threadId, shown by tmux-claude send --json).`,
        { threadId },
      );
    }
    cli.auditResult = { messages: messages.length };
    if (flags.json) cli.json({ threadId, messages });
    else cli.out(formatThread(messages));
    return 0;
  });
}

export function formatThread(messages: readonly ThreadMessage[]): string {
  return table(
    ["TIME", "FROM", "TO", "STATE", "MESSAGE", "REPLY TO", "TEXT"],
    messages.map((m) => [m.sentAt, m.from ?? "root", m.to, m.state, m.id, m.replyTo ?? "-", m.text.replace(/\s+/gu, " ")]),
  );
}
