import { defineErrorCodes } from "@tmux-claude/core";

/** Every code the dashboard raises or sends; the kind picks the CLI's exit code. */
export const DashboardErrorCodes = defineErrorCodes("dashboard", {
  /** The port is taken by another process. */
  PORT_IN_USE: { code: "TC_DASHBOARD_PORT_IN_USE", kind: "failure" },
  /** The host is not an address of this machine (EADDRNOTAVAIL), or a name that does not resolve (ENOTFOUND). */
  HOST_UNAVAILABLE: { code: "TC_DASHBOARD_HOST_UNAVAILABLE", kind: "usage" },
  /** Listening on the port needs privileges this process lacks (EACCES: ports below 1024). */
  PORT_FORBIDDEN: { code: "TC_DASHBOARD_PORT_FORBIDDEN", kind: "usage" },
  /** A non-loopback host without `allowRemote`. */
  REMOTE_REFUSED: { code: "TC_DASHBOARD_REMOTE_REFUSED", kind: "usage" },
  /** No valid session cookie (or secret). */
  UNAUTHORIZED: { code: "TC_DASHBOARD_UNAUTHORIZED", kind: "usage" },
  /** A foreign Host or Origin, or a missing/wrong CSRF token. */
  FORBIDDEN: { code: "TC_DASHBOARD_FORBIDDEN", kind: "usage" },
  /** A request body or socket frame that does not match the protocol. */
  BAD_REQUEST: { code: "TC_DASHBOARD_BAD_REQUEST", kind: "usage" },
  /** An instance id that does not exist (any more). */
  NOT_FOUND: { code: "TC_DASHBOARD_NOT_FOUND", kind: "not-found" },
  /** An action that does not apply now (answer to an instance that is not waiting, merge without plugin-git). */
  CONFLICT: { code: "TC_DASHBOARD_CONFLICT", kind: "usage" },
  /** The client build is missing (dist/client). */
  CLIENT_MISSING: { code: "TC_DASHBOARD_CLIENT_MISSING", kind: "failure" },
});
