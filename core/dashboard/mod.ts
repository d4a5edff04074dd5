/** The dashboards: state reducer, derived view, terminal renderer, web server and run report. */

export * from "./state.ts";
export * from "./view.ts";
export * from "./store.ts";
export * from "./terminal.ts";
export * from "./format.ts";
export * from "./assets.ts";
export * from "./web_server.ts";
export * from "./report.ts";
