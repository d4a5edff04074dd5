/**
 * `deno task bench [name filter...]`: makes sure a Kafka broker answers (like `deno task test`),
 * then runs every bench/*_bench.ts as its own process with KAFKA_BOOTSTRAP_SERVERS set. Each
 * benchmark prints a markdown table. A filter runs only benchmarks whose file name contains it
 * (`local-llm` matches `local_llm_bench.ts`). The local LLM bench needs a model server and runs
 * only when named. `--help` prints help and starts nothing.
 */

import { ensureBrokerOrExit, runForwardingSignals } from "./_ensure_broker.ts";

const BENCH_DIR = new URL("../bench/", import.meta.url).pathname;
const PERMISSIONS = [
  "--allow-net=127.0.0.1,localhost",
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-run",
];

/** Benchmarks that need something beyond a broker (a model server): run only when named. */
const ON_REQUEST = ["local_llm_bench.ts"];

const available = [...Deno.readDirSync(BENCH_DIR)]
  .filter((entry) => entry.isFile && entry.name.endsWith("_bench.ts"))
  .map((entry) => entry.name)
  .sort();

const HELP = `Usage: deno task bench [filter...] [--flag value...]

Make sure a Kafka broker answers ($KAFKA_BOOTSTRAP_SERVERS, or a local ephemeral one), then run
each bench/*_bench.ts as its own process; each prints a markdown table.

  filter      run only benchmarks whose file name contains it (local-llm: local_llm_bench.ts)
  --flag ...  everything from the first --flag on goes to the benchmarks, e.g.
              deno task bench agents --agents 3,30,300 --json (one JSON line per row; with
              --json nothing else is printed on standard output)
  -h, --help  this help; nothing starts

Benchmarks: ${available.map((name) => name.replace(/_bench\.ts$/, "")).join(", ")}
Run only when named: ${ON_REQUEST.map((name) => name.replace(/_bench\.ts$/, "")).join(", ")}
`;

// Help needs no broker: answer it before anything starts.
if (Deno.args.includes("--help") || Deno.args.includes("-h")) {
  console.log(HELP);
  Deno.exit(0);
}
// Names first; from the first flag on, everything goes to the benchmarks themselves.
const firstFlag = Deno.args.findIndex((arg) => arg.startsWith("--"));
const benchArgs = firstFlag < 0 ? [] : Deno.args.slice(firstFlag);
const json = benchArgs.includes("--json");
const filters = (firstFlag < 0 ? Deno.args : Deno.args.slice(0, firstFlag))
  .map((filter) => filter.replaceAll("-", "_"));
const benches = available
  .filter((name) =>
    filters.length === 0
      ? !ON_REQUEST.includes(name)
      : filters.some((filter) => name.includes(filter))
  )
  .sort();
if (benches.length === 0) {
  console.error(`No benchmark in bench/ matches ${filters.join(", ") || "*_bench.ts"}`);
  Deno.exit(1);
}

const broker = await ensureBrokerOrExit();
const failed: string[] = [];
try {
  // With --json, standard output carries only the benchmarks' JSON lines.
  (json ? console.error : console.log)(`Machine: ${await describeMachine()}\n`);
  for (const bench of benches) {
    console.error(`Running bench/${bench}`);
    const code = await runForwardingSignals(Deno.execPath(), {
      args: ["run", ...PERMISSIONS, `${BENCH_DIR}${bench}`, ...benchArgs],
      env: { KAFKA_BOOTSTRAP_SERVERS: broker.bootstrap },
    });
    if (!json) console.log("");
    if (code !== 0) failed.push(`${bench} (exit ${code})`);
  }
} finally {
  await broker.stop();
}
if (failed.length > 0) {
  console.error(`Benchmarks failed: ${failed.join(", ")}`);
  Deno.exit(1);
}

/** CPU model, core count and memory, from /proc where available. */
async function describeMachine(): Promise<string> {
  // Deno allows reading /proc/cpuinfo only with --allow-all, so ask `cat` (--allow-run).
  const read = async (path: string) => {
    try {
      const output = await new Deno.Command("cat", { args: [path], stderr: "null" }).output();
      return new TextDecoder().decode(output.stdout);
    } catch {
      return "";
    }
  };
  const cpuinfo = await read("/proc/cpuinfo");
  const model = cpuinfo.match(/^model name\s*:\s*(.+)$/m)?.[1]?.trim() ?? "unknown CPU";
  const cores = navigator.hardwareConcurrency;
  const memKb = Number((await read("/proc/meminfo")).match(/^MemTotal:\s*(\d+)/m)?.[1] ?? 0);
  const memory = memKb > 0 ? `${(memKb / 1024 / 1024).toFixed(1)} GiB RAM` : "unknown memory";
  return `${model}, ${cores} cores, ${memory}, Deno ${Deno.version.deno}`;
}
