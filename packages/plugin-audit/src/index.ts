export { audit, auditOf, withAudit, PLUGIN_NAME, type AuditApi, type AuditOptions } from "./plugin.js";
export { toEntry, digest, ROOT_CALLER, MAX_LOGGED_CHARS, type AuditEntry } from "./entry.js";
export { auditKey, KEY_NAME } from "./key.js";
export { parseSince, describeOutcome, type AuditFilter } from "./query.js";
export { LOG_NAME } from "./log-file.js";
