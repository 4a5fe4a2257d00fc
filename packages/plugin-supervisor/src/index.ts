export { supervisor, withSupervisor, PLUGIN_NAME } from "./plugin.js";
export { blockerMessage, type BlockerState } from "./blockers.js";
