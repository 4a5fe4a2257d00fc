import { z } from "zod";

/**
 * A regular expression source, as agents' screen patterns are written in a
 * config. It must compile with the flags it is used with: a broken pattern is a
 * config error naming the key and the regex error at start, not a crash at the
 * first spawn.
 */
export function regexSource(flags = "u") {
  return z.string().superRefine((source, ctx) => {
    try {
      new RegExp(source, flags);
    } catch (error) {
      const reason = (error instanceof Error ? error.message : String(error)).replace(/^Invalid regular expression: /u, "");
      ctx.addIssue({
        code: "custom",
        message: `not a valid regular expression (${reason}); write a JavaScript regex source and escape special characters with a backslash (e.g. "\\\\(" for a literal "(")`,
      });
    }
  });
}
