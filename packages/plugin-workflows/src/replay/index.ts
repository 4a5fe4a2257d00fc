/** Reading a run back from its journal: the timeline, per-step durations and tokens, failure, critical path. */
export { analyzeJournal, type ReplayReport, type StepReport, type TimelineEntry, type Tokens } from "./analyze.js";
export { JournalFold, type StepFold } from "./fold.js";
export { formatReplay, formatTokens, shortCount } from "./format.js";
export { describeEvent, actorOf, clip } from "./describe.js";
