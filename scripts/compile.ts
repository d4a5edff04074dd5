/**
 * `deno task compile [--out DIR] [--target T] [--dry-run] [service...]`: one standalone executable
 * per service (`DIR/<service>`, default `artifacts/bin/`) with the service's Deno permissions baked
 * in. The permission flags are read from the service's own `deno task` line in deno.json (the flags
 * between `deno run` and the script), so a task and its executable never disagree.
 *
 * `deno compile` needs the Deno runtime binary (`denort`) of the same release and target. It uses
 * `$DENORT_BIN` when set, else a copy in Deno's cache, else downloads one from Deno's servers; when
 * none can be had the task says so and exits with code 3.
 */

import { Command } from "@commander-js/extra-typings";

/** One service to compile: its script and the files it loads at run time. */
export interface CompileTarget {
  /** Service name: the deno task and the executable's name. */
  service: string;
  /** Entry script, relative to the project root. */
  script: string;
  /** Files or folders the service reads or loads at run time (`deno compile --include`). */
  include: string[];
}

const ONE_PROCESS_INCLUDES = [
  "fixtures/market",
  "core/dashboard/web",
  "core/tools/_calculator_worker.ts",
];

/** Every service with its run-time files. */
export const COMPILE_TARGETS: readonly CompileTarget[] = [
  { service: "chat_node", script: "services/chat_node.ts", include: [] },
  { service: "router", script: "services/router.ts", include: [] },
  // The calculator evaluates expressions in a Web Worker loaded from its own module.
  { service: "tools", script: "services/tools.ts", include: ["core/tools/_calculator_worker.ts"] },
  { service: "connector", script: "services/connector.ts", include: [] },
  // The web dashboard serves its page, script and styles from these files.
  { service: "dashboard", script: "services/dashboard.ts", include: ["core/dashboard/web"] },
  { service: "ledger", script: "services/ledger.ts", include: [] },
  // The whole arena in one process (and tournaments of it): replays the bundled candles, runs
  // the calculator worker and renders the HTML report.
  { service: "arena", script: "services/arena.ts", include: ONE_PROCESS_INCLUDES },
  { service: "tournament", script: "services/tournament.ts", include: ONE_PROCESS_INCLUDES },
];

/** Project root (the folder holding deno.json). */
export const PROJECT_ROOT: string = new URL("../", import.meta.url).pathname;

/** Exit code when no denort runtime could be had. */
export const NO_RUNTIME_EXIT_CODE = 3;

/** Reads the `tasks` of the project's deno.json. */
export function readTasks(root: string = PROJECT_ROOT): Record<string, string> {
  const config = JSON.parse(Deno.readTextFileSync(`${root}deno.json`)) as {
    tasks?: Record<string, string>;
  };
  return config.tasks ?? {};
}

/**
 * The Deno flags of a service's task line: the words between `deno run` and the script. Throws
 * when the task is missing or is not of the form `deno run <--flags> <script>`.
 */
export function taskPermissionFlags(
  tasks: Record<string, string>,
  target: CompileTarget,
): string[] {
  const line = tasks[target.service];
  if (line === undefined) {
    throw new Error(`deno.json has no task ${target.service}: add one running ${target.script}`);
  }
  const words = line.trim().split(/\s+/);
  const scriptAt = words.indexOf(target.script);
  if (words[0] !== "deno" || words[1] !== "run" || scriptAt < 2) {
    throw new Error(
      `Task ${target.service} must read "deno run <flags> ${target.script} [args]", got: ${line}`,
    );
  }
  const flags = words.slice(2, scriptAt);
  const odd = flags.filter((flag) => !flag.startsWith("--"));
  if (odd.length > 0) {
    throw new Error(
      `Task ${target.service} flags must be written --name[=value], got ${odd.join(" ")}`,
    );
  }
  return flags;
}

/** Options for {@linkcode compileArgs}. */
export interface CompileArgsOptions {
  /** Output folder of the executables. */
  out: string;
  /** Target triple, e.g. `x86_64-unknown-linux-gnu` (default the host's). */
  target?: string;
}

/** The `deno compile` arguments (after `deno`) that build one service. */
export function compileArgs(
  target: CompileTarget,
  flags: string[],
  options: CompileArgsOptions,
): string[] {
  const out = options.out.replace(/\/+$/, "");
  return [
    "compile",
    ...flags,
    ...target.include.flatMap((path) => ["--include", path]),
    ...(options.target ? ["--target", options.target] : []),
    "--output",
    `${out}/${target.service}`,
    target.script,
  ];
}

/** Where a denort runtime was found. */
export interface DenortRuntime {
  /** Path of the binary or of Deno's cached download. */
  path: string;
  /** `DENORT_BIN` (the user's binary) or `cache` (downloaded earlier into Deno's cache). */
  source: "DENORT_BIN" | "cache";
}

/**
 * Finds a denort runtime for `target` without the network: `$DENORT_BIN`, else the zip that an
 * earlier `deno compile` downloaded into Deno's cache. Throws when DENORT_BIN names no file.
 */
export async function findDenort(
  options: { target?: string; root?: string } = {},
): Promise<DenortRuntime | null> {
  const fromEnv = Deno.env.get("DENORT_BIN");
  if (fromEnv) {
    const info = await Deno.stat(fromEnv).catch(() => null);
    if (!info?.isFile) throw new Error(`DENORT_BIN must name a denort binary, got ${fromEnv}`);
    return { path: fromEnv, source: "DENORT_BIN" };
  }
  const info = new Deno.Command(Deno.execPath(), {
    args: ["info", "--json"],
    cwd: options.root ?? PROJECT_ROOT,
    stdout: "piped",
    stderr: "null",
  });
  const output = await info.output();
  if (!output.success) return null;
  const { denoDir, denoVersion } = JSON.parse(new TextDecoder().decode(output.stdout)) as {
    denoDir: string;
    denoVersion: string;
  };
  const triple = options.target ?? Deno.build.target;
  const cached = `${denoDir}/dl/release/v${denoVersion}/denort-${triple}.zip`;
  const stat = await Deno.stat(cached).catch(() => null);
  return stat?.isFile ? { path: cached, source: "cache" } : null;
}

/** Whether `deno compile` failed for want of the denort runtime (not for an error in the code). */
export function isMissingRuntimeError(stderr: string): boolean {
  return /denort/i.test(stderr) &&
    /(base binary|error sending request|dns error|download|connect)/i.test(stderr);
}

/** The plain explanation printed when no denort runtime is available. */
export function missingRuntimeMessage(target: string): string {
  return [
    `deno compile needs the Deno runtime (denort) for ${target}, and none is available here:`,
    `DENORT_BIN is not set, Deno's cache has no denort ${Deno.version.deno}, and downloading it`,
    `from Deno's servers failed. Nothing was compiled. Either run this online once (the download`,
    `is cached), or set DENORT_BIN=/path/to/denort (denort ${Deno.version.deno} for ${target},`,
    `from the same Deno release) and run again. The services still run as deno tasks.`,
  ].join("\n");
}

/** A word as a POSIX shell reads it back: quoted when it holds characters the shell expands. */
export function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}

async function main(): Promise<number> {
  const program = new Command()
    .name("compile")
    .description("Build one standalone executable per service with its task's permissions")
    .argument("[services...]", `services to build (default all: ${names().join(", ")})`)
    .option("--out <dir>", "output folder", "artifacts/bin")
    .option("--target <triple>", "target, e.g. x86_64-unknown-linux-gnu (default this machine)")
    .option("--dry-run", "print the deno compile commands without running them", false);
  program.parse();
  const options = program.opts();
  const wanted = program.processedArgs[0];
  const unknown = wanted.filter((name) => !names().includes(name));
  if (unknown.length > 0) {
    console.error(`Unknown service ${unknown.join(", ")}; valid: ${names().join(", ")}`);
    return 2;
  }
  const targets = COMPILE_TARGETS.filter((target) =>
    wanted.length === 0 || wanted.includes(target.service)
  );
  const tasks = readTasks();
  const out = options.dryRun || options.out.startsWith("/")
    ? options.out
    : `${Deno.cwd()}/${options.out}`;
  const plans = targets.map((target) => ({
    target,
    args: compileArgs(target, taskPermissionFlags(tasks, target), { out, target: options.target }),
  }));
  if (options.dryRun) {
    for (const plan of plans) console.log(["deno", ...plan.args].map(shellWord).join(" "));
    return 0;
  }

  const triple = options.target ?? Deno.build.target;
  let runtime: DenortRuntime | null;
  try {
    runtime = await findDenort({ target: triple });
  } catch (error) {
    console.error((error as Error).message);
    return 2;
  }
  console.log(
    runtime
      ? `denort runtime: ${runtime.path} (${runtime.source})`
      : `denort runtime: none found locally for ${triple}; deno compile will try to download it`,
  );
  await Deno.mkdir(out, { recursive: true });
  for (const plan of plans) {
    console.log(`\n$ ${["deno", ...plan.args].map(shellWord).join(" ")}`);
    const output = await new Deno.Command(Deno.execPath(), {
      args: plan.args,
      cwd: PROJECT_ROOT,
      stdin: "null",
      stdout: "inherit",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(output.stderr);
    if (!output.success) {
      if (isMissingRuntimeError(stderr)) {
        console.error(missingRuntimeMessage(triple));
        return NO_RUNTIME_EXIT_CODE;
      }
      console.error(stderr);
      console.error(`Compiling ${plan.target.service} failed (exit ${output.code})`);
      return 1;
    }
    Deno.stderr.writeSync(output.stderr);
  }
  console.log(
    `\nBuilt ${plans.map((plan) => plan.target.service).join(", ")} in ${out}/`,
  );
  return 0;
}

function names(): string[] {
  return COMPILE_TARGETS.map((target) => target.service);
}

if (import.meta.main) Deno.exit(await main());
