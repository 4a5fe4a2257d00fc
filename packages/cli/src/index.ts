export { main, buildProgram, type MainOptions } from "./main.js";
export { serveStatus, SERVE_FILE, type ServeInfo, type ServeStatus } from "./commands/serve.js";
export { runChecks, type Check } from "./commands/doctor.js";
export { ExitCode, EXIT_CODES_HELP, exitCodeFor, Interrupted } from "./exit-codes.js";
export type { CliIO, GlobalOptions } from "./context.js";
