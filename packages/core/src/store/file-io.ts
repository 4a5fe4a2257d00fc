/** Whole-file reads and writes of the embedded store: a reader never sees half a file. */
import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import { ErrorCodes, TmuxClaudeError } from "../errors.js";
import { errorCode } from "./safe-name.js";

export function storeFailed(action: string, file: string, error: unknown): TmuxClaudeError {
  const reason = error instanceof Error ? error.message : String(error);
  return new TmuxClaudeError(
    ErrorCodes.STORE_FAILED,
    `Could not ${action} ${file}: ${reason}. Check that the state directory exists, is writable by this user and the disk is not full.`,
    { path: file },
    { cause: error },
  );
}

/** Write under a temporary name ending in `.tmp`, then rename into place. */
export function writeAtomic(file: string, value: unknown): Promise<void> {
  return writeTextAtomic(file, `${JSON.stringify(value, null, 2)}\n`);
}

/** writeAtomic for text already made. */
export async function writeTextAtomic(file: string, text: string): Promise<void> {
  const tmp = `${file}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
  try {
    await fs.writeFile(tmp, text, { mode: 0o600, flag: "wx" });
    await fs.rename(tmp, file);
  } catch (error) {
    await fs.unlink(tmp).catch(() => undefined);
    throw storeFailed("write", file, error);
  }
}

/** The parsed file, or undefined when it does not exist. */
export async function readJson(file: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await fs.readFile(file, "utf8");
  } catch (error) {
    if (errorCode(error) === "ENOENT") return undefined;
    throw storeFailed(`read ${what}`, file, error);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new TmuxClaudeError(
      ErrorCodes.STORE_FAILED,
      `The ${what} ${file} is not valid JSON (${error instanceof Error ? error.message : String(error)}). ` +
        `The store writes files atomically, so something else changed it; fix or remove the file.`,
      { path: file },
      { cause: error },
    );
  }
}

/** True when this call removed the file. */
export async function unlinkIfExists(file: string): Promise<boolean> {
  try {
    await fs.unlink(file);
    return true;
  } catch (error) {
    if (errorCode(error) === "ENOENT") return false;
    throw storeFailed("remove", file, error);
  }
}

export async function listDir(dir: string, what: string): Promise<string[]> {
  try {
    return await fs.readdir(dir);
  } catch (error) {
    throw storeFailed(`list ${what} in`, dir, error);
  }
}

/** Temporary files older than `olderThanMs` belong to a process that died mid-write. */
export async function removeStaleTmp(dir: string, olderThanMs: number): Promise<void> {
  const names = await listDir(dir, "temporary files");
  const cutoff = Date.now() - olderThanMs;
  await Promise.all(
    names
      .filter((name) => name.endsWith(".tmp"))
      .map(async (name) => {
        const file = `${dir}/${name}`;
        try {
          const stat = await fs.lstat(file);
          if (stat.mtimeMs < cutoff) await fs.unlink(file);
        } catch (error) {
          if (errorCode(error) !== "ENOENT") throw storeFailed("remove stale temporary file", file, error);
        }
      }),
  );
}

/** A file's identity and version: a write by rename gives a new inode. */
export async function fileStamp(file: string): Promise<string | undefined> {
  try {
    const info = await fs.stat(file, { bigint: true });
    return `${info.ino}:${info.mtimeNs}:${info.size}`;
  } catch {
    return undefined;
  }
}
