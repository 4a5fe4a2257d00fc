// The dashboard plugin: see README.md.
export { dashboard, MONITOR_HINT, PLUGIN_NAME, type DashboardApi, type DashboardAddress } from "./plugin.js";
export { readDashboardInfo, DASHBOARD_FILE, TOKEN_FILE, type DashboardInfo } from "./state-file.js";
export { openBrowser } from "./open-browser.js";
export { dashboardOptionsSchema, parseDashboardOptions, isLoopbackHost, type DashboardOptions, type DashboardUserOptions } from "./options.js";
export { DashboardErrorCodes } from "./errors.js";
export type * from "./protocol.js";
export { CSRF_HEADER, SOCKET_PATH } from "./protocol.js";
