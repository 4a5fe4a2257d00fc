/** What the embedded store accepts as an instance id and an id prefix (and, for documents, as a key: docs.ts). */
import { ErrorCodes, TmuxClaudeError } from "../errors.js";

export const ID_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/u;
const PREFIX_PATTERN = /^[A-Za-z0-9_]+(?:-[A-Za-z0-9_]+)*$/u;
/**
 * Keeps every file name under NAME_MAX (255): the longest is a queue file's
 * temporary name, `<id>@<seq 39>@<message id, at most 48>.json.<pid>.<hex>.tmp`.
 */
export const MAX_ID_LENGTH = 128;

export function assertId(id: unknown, what: string): asserts id is string {
  if (typeof id !== "string" || !ID_PATTERN.test(id) || id.length > MAX_ID_LENGTH) {
    throw new TmuxClaudeError(
      ErrorCodes.INVALID_ARGUMENT,
      `${what} ${JSON.stringify(id)} cannot be stored: an id is 1-${MAX_ID_LENGTH} letters, digits, '.', '_' or '-' and does not start with '.' or '-'. ` +
        `Use an id returned by reserveId().`,
    );
  }
}

export function assertIdPrefix(prefix: unknown): asserts prefix is string {
  if (typeof prefix !== "string" || !PREFIX_PATTERN.test(prefix)) {
    throw new TmuxClaudeError(
      ErrorCodes.INVALID_ARGUMENT,
      `Id prefix ${JSON.stringify(prefix)} is not valid: use letters, digits and '_', optionally joined by '-' (for example "mgr").`,
    );
  }
}
