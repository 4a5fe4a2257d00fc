// What `tmux-claude git <sub>` declares to the audit log (CommandContribution
// .invocation): the registered subcommand, and its instance only when the
// subcommand's own options parse the words; option values and texts are
// never taken for a subcommand or a target.
import { expect, test } from "vitest";
import { GitCommands } from "../src/surfaces/commands.js";
import { diffSubcommand } from "../src/surfaces/diff.js";
import { gcSubcommand } from "../src/surfaces/gc-command.js";
import { mergeSubcommand } from "../src/surfaces/merge-command.js";

const commands = new GitCommands();
// invocation() only parses: the parts behind the subcommands are never called.
commands.register(mergeSubcommand({} as never));
commands.register(gcSubcommand({} as never));
commands.register(diffSubcommand);
const invocation = (...argv: string[]) => commands.contribution().invocation!(argv);

test("git merge: the id after its options' values is the target; a value or a quoted command never is", () => {
  expect(invocation("merge", "--strategy", "squash", "exec-1")).toEqual({ subcommand: "merge", target: "exec-1" });
  expect(invocation("merge", "--verify", "curl -H 'Authorization: Bearer sk-SECRET' x", "exec-1")).toEqual({ subcommand: "merge", target: "exec-1" });
  expect(invocation("merge", "exec-1", "--into=main", "--dry-run")).toEqual({ subcommand: "merge", target: "exec-1" });
  // Words its options do not parse: none of them is the target.
  expect(invocation("merge", "--unknown", "sk-SECRET", "exec-1")).toEqual({ subcommand: "merge" });
  expect(invocation("diff", "exec-2", "--json")).toEqual({ subcommand: "diff", target: "exec-2" });
});

test("git gc names a target only when it got one id; an unknown word is no subcommand", () => {
  expect(invocation("gc", "exec-1")).toEqual({ subcommand: "gc", target: "exec-1" });
  expect(invocation("gc", "exec-1", "exec-2", "--force")).toEqual({ subcommand: "gc" });
  expect(invocation("gc", "--older-than", "7")).toEqual({ subcommand: "gc" });
  expect(invocation("sk-SECRET-word", "exec-1")).toEqual({});
  expect(invocation()).toEqual({});
});
