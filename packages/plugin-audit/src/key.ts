/**
 * The node's key for the audit log's argument digests: an HMAC, not a plain
 * hash, because many arguments are short and guessable ("yes", "exec-1") and a
 * plain SHA-256 of them can be looked up by anyone who has a copy of the log.
 * One key per state dir, `<stateDir>/audit.key` (0600), beside the log's
 * directory rather than in it, so a copied log directory does not carry it.
 * Equal arguments on one node still give equal digests.
 */
import { randomBytes } from "node:crypto";
import { link, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";

export const KEY_NAME = "audit.key";
const KEY_BYTES = 32;
const KEY_TEXT = /^[0-9a-f]{64}$/u;

/** One read (or creation) per state dir and process: every line of a process uses the same key. */
const keys = new Map<string, Promise<Buffer>>();

export function auditKey(stateDir: string): Promise<Buffer> {
  const file = path.join(path.resolve(stateDir), KEY_NAME);
  let key = keys.get(file);
  if (!key) {
    key = loadOrCreate(file);
    keys.set(file, key);
    // A failure (a read-only dir) is tried again at the next line, not remembered.
    key.catch(() => keys.delete(file));
  }
  return key;
}

async function loadOrCreate(file: string): Promise<Buffer> {
  const existing = await readKey(file);
  if (existing) return existing;
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  // Written whole under a private name, then linked into place: link fails when another process was first,
  // so every process ends up with the one key that is there, and none ever reads a half-written file.
  const draft = `${file}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
  await writeFile(draft, `${randomBytes(KEY_BYTES).toString("hex")}\n`, { mode: 0o600, flag: "wx" });
  try {
    await link(draft, file).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== "EEXIST") throw error;
    });
  } finally {
    await rm(draft, { force: true });
  }
  const key = await readKey(file);
  if (!key) throw new Error(`the audit key ${file} vanished while it was created`);
  return key;
}

async function readKey(file: string): Promise<Buffer | undefined> {
  let text: string;
  try {
    text = (await readFile(file, "utf8")).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  if (!KEY_TEXT.test(text)) {
    // Replacing it silently would make the digests already logged incomparable with new ones.
    throw new Error(`the audit key ${file} is not ${KEY_BYTES * 2} hex digits. Remove it to start a new key (digests logged before then will not match new ones)`);
  }
  return Buffer.from(text, "hex");
}
