/**
 * Every error the testkit raises on purpose is a TestkitError with a stable
 * `code`. Messages say what happened, with the value, and what to do next.
 */
export const TestkitErrorCodes = {
  INVALID_ARGUMENT: "TK_INVALID_ARGUMENT",
  MODEL_CLOSED: "TK_MODEL_CLOSED",
  REQUEST_TIMEOUT: "TK_REQUEST_TIMEOUT",
  HOME_NOT_WRITABLE: "TK_HOME_NOT_WRITABLE",
  CLAUDE_NOT_FOUND: "TK_CLAUDE_NOT_FOUND",
  CLAUDE_INSTALL_FAILED: "TK_CLAUDE_INSTALL_FAILED",
  /** A service the test starts itself (redis-server) did not come up. */
  SERVICE_FAILED: "TK_SERVICE_FAILED",
} as const;

export type TestkitErrorCode = (typeof TestkitErrorCodes)[keyof typeof TestkitErrorCodes];

export class TestkitError extends Error {
  override readonly name = "TestkitError";
  readonly code: TestkitErrorCode;

  constructor(code: TestkitErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
