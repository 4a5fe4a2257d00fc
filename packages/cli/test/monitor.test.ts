// `tmux-claude monitor`: serve with the dashboard, print the URL; find a running one; refuse bad flags.
import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";
import { hostname } from "node:os";
import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, afterEach, beforeAll, expect, test } from "vitest";
import { createEnv, eventually, parseJson, type TestEnv } from "./helpers.js";

let env: TestEnv;
let child: ChildProcess | undefined;

beforeAll(async () => {
  env = await createEnv();
});
afterEach(async () => {
  if (child && child.exitCode === null && child.signalCode === null) {
    child.kill("SIGTERM");
    await once(child, "close");
  }
  child = undefined;
});
afterAll(async () => env?.close());

function startMonitor(args: string[], globals: string[] = []): { child: ChildProcess; output: () => { stdout: string; stderr: string } } {
  let stdout = "";
  let stderr = "";
  child = globals.length > 0 ? env.start([...globals, "monitor", ...args], { config: false }) : env.start(["monitor", ...args]);
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  return { child, output: () => ({ stdout, stderr }) };
}

test("monitor serves with the dashboard and prints the login URL; a second monitor prints the same; --json has no secret; Ctrl-C stops it", async () => {
  const first = startMonitor(["--port", "0"]);
  const line = await eventually(() => /Dashboard: (http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+)\n/u.exec(first.output().stdout) ?? (first.child.exitCode !== null ? Promise.reject(new Error(first.output().stderr)) : null), 20_000, "the URL");
  const url = line[1]!;
  const secret = new URL(url).searchParams.get("token")!;
  expect(first.output().stderr).not.toContain(secret);
  const login = await fetch(url, { redirect: "manual" });
  expect(login.status).toBe(303);
  const cookie = login.headers.get("set-cookie")!.split(";")[0]!;
  expect((await fetch(new URL("/api/instances", url), { headers: { cookie } })).status).toBe(200);

  const health = await fetch(new URL("/health", url));
  const report = (await health.json()) as { ok: boolean; checks: { name: string }[] };
  expect(health.status, JSON.stringify(report)).toBe(200);
  expect(report.checks.map((check) => check.name)).toEqual(expect.arrayContaining(["tmux", "store"]));

  const again = await env.run(["monitor"]);
  expect(again.code, again.stderr).toBe(0);
  expect(again.stdout).toBe(`Dashboard: ${url}\n`);
  const otherPort = await env.run(["monitor", "--port", "4999"]);
  expect(otherPort.code, otherPort.stderr).toBe(0);
  expect(otherPort.stdout).toBe(`Dashboard: ${url}\n`);
  expect(otherPort.stderr).toContain("already runs for this state dir");
  const json = await env.run(["monitor", "--json"]);
  expect(json.code, json.stderr).toBe(0);
  expect(json.stdout).not.toContain(secret);
  const info = parseJson<{ url: string; port: number; host: string; tokenFile: string }>(json);
  expect(info).toMatchObject({ url: new URL(url).origin, host: "127.0.0.1", port: Number(new URL(url).port) });
  expect((await readFile(info.tokenFile, "utf8")).trim()).toBe(secret);
  expect((await stat(info.tokenFile)).mode & 0o077).toBe(0);

  // --open without a browser opener on PATH: a warning, the URL is still printed.
  const noOpener = await env.run(["monitor", "--open"], { env: { PATH: env.dir } });
  expect(noOpener.code, noOpener.stderr).toBe(0);
  expect(noOpener.stdout).toBe(`Dashboard: ${url}\n`);
  expect(noOpener.stderr).toMatch(/Warning: Could not open the browser with (xdg-open|open)/u);

  // --open with an opener: it gets a file:// page, never the secret (argv is public through ps).
  const bin = path.join(env.dir, "opener-bin");
  const argvFile = path.join(env.dir, "opener-argv.json");
  await mkdir(bin, { recursive: true });
  for (const name of ["xdg-open", "open"]) {
    await writeFile(path.join(bin, name), `#!${process.execPath}\nrequire("node:fs").writeFileSync(${JSON.stringify(argvFile)}, JSON.stringify(process.argv.slice(2)));\n`, { mode: 0o700 });
  }
  const opened = await env.run(["monitor", "--open"], { env: { PATH: bin } });
  expect(opened.code, opened.stderr).toBe(0);
  const openerArgv = await eventually(async () => JSON.parse(await readFile(argvFile, "utf8")) as string[], 10_000, "the opener's argv");
  expect(openerArgv).toHaveLength(1);
  expect(openerArgv[0]).toMatch(/^file:\/\/.*dashboard-open\.html$/u);
  expect(JSON.stringify(openerArgv)).not.toContain(secret);
  expect(await readFile(new URL(openerArgv[0]!), "utf8")).toContain(url);

  // A serve (the monitor) runs: a plain serve is refused, as always.
  const serve = await env.run(["serve"]);
  expect(serve.code).toBe(1);

  first.child.kill("SIGINT");
  const [code] = (await once(first.child, "close")) as [number | null];
  expect(code).toBe(0);
  await expect(stat(path.join(env.stateDir, "dashboard.json"))).rejects.toThrow(/ENOENT/u);
  await expect(stat(info.tokenFile)).rejects.toThrow(/ENOENT/u);
}, 60_000);

test("monitor --json prints the address without the secret once listening", async () => {
  const run = startMonitor(["--port", "0", "--json"]);
  const info = await eventually(() => (run.output().stdout.includes("}") ? (JSON.parse(run.output().stdout) as { url: string; tokenFile: string }) : run.child.exitCode !== null ? Promise.reject(new Error(run.output().stderr)) : null), 20_000, "the JSON");
  expect(info.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/u);
  const secret = (await readFile(info.tokenFile, "utf8")).trim();
  expect(run.output().stdout).not.toContain(secret);
  expect((await fetch(`${info.url}/?token=${secret}`, { redirect: "manual" })).status).toBe(303);
}, 60_000);

test("a config that lists dashboard({...}) (imported as the CLI ships it) gives its options; the flags override them", async () => {
  const configFile = path.join(env.dir, "dashboard.config.mjs");
  await writeFile(
    configFile,
    `import { dashboard } from "@tmux-claude/plugin-dashboard";\nimport base from "./tmuxclaude.config.mjs";\nexport default { ...base, plugins: [dashboard({ port: 0 })] };\n`,
  );
  const run = startMonitor(["--json"], ["--config", configFile]);
  const info = await eventually(() => (run.output().stdout.includes("}") ? (JSON.parse(run.output().stdout) as { port: number }) : run.child.exitCode !== null ? Promise.reject(new Error(run.output().stderr)) : null), 20_000, "the JSON");
  // Port 0 from the config, not monitor's default 3001.
  expect(info.port).not.toBe(3001);
  run.child.kill("SIGTERM");
  await once(run.child, "close");
  const blocker = createServer();
  blocker.listen(0, "127.0.0.1");
  await once(blocker, "listening");
  const port = (blocker.address() as { port: number }).port;
  try {
    const overridden = await env.run(["--config", configFile, "monitor", "--port", String(port)], { config: false });
    expect(overridden.code).toBe(1);
    expect(overridden.stderr).toContain(`127.0.0.1:${port}`);
  } finally {
    blocker.close();
  }
}, 60_000);

test("monitor with a port in use, or a non-loopback host without --allow-remote: one clear error, no server", async () => {
  const blocker = createServer();
  blocker.listen(0, "127.0.0.1");
  await once(blocker, "listening");
  const port = (blocker.address() as { port: number }).port;
  try {
    const inUse = await env.run(["monitor", "--port", String(port)]);
    expect(inUse.code).toBe(1);
    expect(inUse.stderr).toContain(`127.0.0.1:${port}`);
    expect(inUse.stderr).toContain("--port");
  } finally {
    blocker.close();
  }
  const remote = await env.run(["monitor", "--host", "0.0.0.0", "--port", "0"]);
  expect(remote.code).toBe(2);
  expect(remote.stderr).toContain('host "0.0.0.0" is not loopback');
  expect(remote.stderr).toContain("--allow-remote");
  const badPort = await env.run(["monitor", "--port", "http"]);
  expect(badPort.code).not.toBe(0);
  expect(badPort.stderr).toContain("0 to 65535");
  await expect(stat(path.join(env.stateDir, "dashboard.json"))).rejects.toThrow(/ENOENT/u);
}, 60_000);

test("monitor --help names its flags", async () => {
  const help = await env.run(["monitor", "--help"], { config: false });
  expect(help.code).toBe(0);
  for (const flag of ["--port", "--host", "--allow-remote", "--open", "--json"]) expect(help.stdout).toContain(flag);
});

test("serve with dashboard() in the config says how to get the URL (never the secret); serve --help and init's template mention the dashboard", async () => {
  const configFile = path.join(env.dir, "serve-dashboard.config.mjs");
  await writeFile(
    configFile,
    `import { dashboard } from "@tmux-claude/plugin-dashboard";\nimport base from "./tmuxclaude.config.mjs";\nexport default { ...base, plugins: [dashboard({ port: 0 })] };\n`,
  );
  let stderr = "";
  child = env.start(["--config", configFile, "serve"], { config: false });
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  await eventually(() => stderr.includes("dashboard: run `tmux-claude monitor` to print its login URL") || (child!.exitCode !== null ? Promise.reject(new Error(stderr)) : null), 20_000, "the hint");
  const secret = (await readFile(path.join(env.stateDir, "dashboard.token"), "utf8")).trim();
  expect(stderr).not.toContain(secret);
  const help = await env.run(["serve", "--help"], { config: false });
  expect(help.stdout).toContain("tmux-claude monitor");
  expect(help.stdout).toContain("dashboard()");
  const template = (await import("@tmux-claude/core")).configTemplate();
  expect(template).toContain("// dashboard({ port: 3001 }),");
  expect(template).toContain('// import { dashboard } from "@tmux-claude/plugin-dashboard";');
}, 60_000);

test("monitor --host 0.0.0.0 --allow-remote prints a URL with this machine's name, not 0.0.0.0", async () => {
  const run = startMonitor(["--host", "0.0.0.0", "--allow-remote", "--port", "0"]);
  const line = await eventually(() => /Dashboard: (\S+)\n/u.exec(run.output().stdout) ?? (run.child.exitCode !== null ? Promise.reject(new Error(run.output().stderr)) : null), 20_000, "the URL");
  const url = new URL(line[1]!);
  expect(url.hostname).toBe(hostname().toLowerCase());
  expect(run.output().stderr).toContain("not loopback");
}, 60_000);
