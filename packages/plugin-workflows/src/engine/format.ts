export { formatDuration as formatMs } from "../dsl/index.js";

/** The last `limit` characters of a text (what a run step keeps of its output). */
export function tail(text: string, limit = 4000): string {
  return text.length > limit ? text.slice(text.length - limit) : text;
}
