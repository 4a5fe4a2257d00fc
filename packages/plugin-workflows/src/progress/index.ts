/** Showing a run as it goes: a live list on a terminal, plain lines elsewhere, JSON lines for tools. */
export { createProgress, progressMode, type Progress, type ProgressMode, type ProgressOptions, type ProgressStream } from "./render.js";
export { RunModel, type StepRow } from "./model.js";
