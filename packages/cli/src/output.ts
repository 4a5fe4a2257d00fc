/** A writable text stream; `isTTY` decides whether progress is drawn. */
export interface OutStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
}

/** Columns padded to their widest cell, two spaces apart; the last column is not padded. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [headers, ...rows];
  const widths = headers.map((_, column) => Math.max(...all.map((row) => (row[column] ?? "").length)));
  return all
    .map((row) =>
      row
        .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/** A status as shown: `limited until 10:05:03` (local time; with the date when not today) for an instance at its usage limit. */
export function statusText(status: string, limitedUntil: string | undefined, now = new Date()): string {
  if (status !== "limited" || limitedUntil === undefined) return status;
  const until = new Date(limitedUntil);
  const sameDay = until.toDateString() === now.toDateString();
  return `limited until ${sameDay ? until.toLocaleTimeString() : until.toLocaleString()}`;
}

export function printJson(stream: OutStream, value: unknown): void {
  stream.write(`${JSON.stringify(value, redactSecrets, 2)}\n`);
}

/** Variables whose values never appear in output: per-instance MCP tokens, API keys, passwords. */
const SECRET_NAME = /token|secret|passw(or)?d|api[_-]?key|credential/iu;

/** JSON replacer: inside any `env` object, values of secret-looking variables are replaced. */
function redactSecrets(this: unknown, key: string, value: unknown): unknown {
  if (key !== "env" || typeof value !== "object" || value === null || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([name, v]) => [name, SECRET_NAME.test(name) ? "[redacted]" : v]));
}

/** `42s`, `5m`, `3h`, `2d` since `iso`. */
export function formatAge(iso: string, now = Date.now()): string {
  const seconds = Math.max(0, Math.floor((now - Date.parse(iso)) / 1000));
  if (!Number.isFinite(seconds)) return "?";
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}

/** A screen capture without the blank rows below the last output. */
export function trimScreen(screen: string): string {
  return screen.replace(/\s+$/u, "");
}

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
const FRAME_MS = 100;

/**
 * A spinner line on a terminal ("⠙ spawning executive... 2s") while `promise`
 * runs; nothing at all when the stream is not a TTY, so logs and pipes stay clean.
 * The timer only redraws the line; it never polls anything.
 */
export async function withProgress<T>(stream: OutStream, label: string, promise: Promise<T>): Promise<T> {
  if (stream.isTTY !== true) return promise;
  const started = Date.now();
  let frame = 0;
  const draw = () => {
    const seconds = Math.floor((Date.now() - started) / 1000);
    stream.write(`\r\u001b[2K${FRAMES[frame++ % FRAMES.length]} ${label} ${seconds}s`);
  };
  draw();
  const timer = setInterval(draw, FRAME_MS);
  timer.unref();
  try {
    return await promise;
  } finally {
    clearInterval(timer);
    stream.write("\r\u001b[2K");
  }
}
