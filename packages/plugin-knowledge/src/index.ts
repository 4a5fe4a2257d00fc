export { knowledge, withKnowledge, knowledgeOptionsSchema, PLUGIN_NAME, type KnowledgeApi, type KnowledgeOptions } from "./plugin.js";
export { KnowledgeErrors } from "./errors.js";
export { overlaps, projectPath, globRegExp, WHOLE } from "./paths.js";
export { MAX_PATHS, type ClaimRequest, type ClaimResult } from "./claims.js";
export type { Claim, ClaimsDoc, WaitingClaim, Conflict } from "./claim-doc.js";
export { MAX_KEY_LENGTH, MAX_TAGS, type KnowledgeEntry, type KnowledgeQuery } from "./entries.js";
