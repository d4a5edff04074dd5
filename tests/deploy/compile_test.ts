/**
 * `deno task compile`: the wiring is always checked (every service has a task, the baked-in flags
 * are the task's own, the included files exist). A real compile needs the denort runtime: with
 * `DENORT_BIN` set (or denort in Deno's cache) one service is compiled and its executable run;
 * without one, the test names say that only the wiring was checked, and the task must say plainly
 * that nothing was compiled.
 */

import assert from "node:assert/strict";
import {
  COMPILE_TARGETS,
  compileArgs,
  findDenort,
  isMissingRuntimeError,
  NO_RUNTIME_EXIT_CODE,
  PROJECT_ROOT,
  readTasks,
  shellWord,
  taskPermissionFlags,
} from "../../scripts/compile.ts";

const decoder = new TextDecoder();

async function runTask(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["task", "compile", ...args],
    cwd: PROJECT_ROOT,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(180_000),
  }).output();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

Deno.test("compile wiring: every service in services/ is a compile target with a deno task", () => {
  const scripts = [...Deno.readDirSync(`${PROJECT_ROOT}services`)]
    .filter((entry) => entry.isFile && entry.name.endsWith(".ts") && !entry.name.startsWith("_"))
    .map((entry) => entry.name.replace(/\.ts$/, ""))
    .sort();
  assert.deepEqual(COMPILE_TARGETS.map((target) => target.service).sort(), scripts);
  const tasks = readTasks();
  for (const target of COMPILE_TARGETS) {
    assert.equal(target.script, `services/${target.service}.ts`);
    const line = tasks[target.service];
    assert.ok(line, `deno.json has a task ${target.service}`);
    assert.ok(!/not wired yet/.test(line), `task ${target.service} is wired: ${line}`);
  }
  assert.match(tasks.compile ?? "", /^deno run .*scripts\/compile\.ts$/);
});

Deno.test("compile wiring: the baked-in flags are exactly the task's flags, in order", () => {
  const tasks = readTasks();
  for (const target of COMPILE_TARGETS) {
    const flags = taskPermissionFlags(tasks, target);
    // Rebuilding the task line from the derived flags gives the task line back.
    assert.equal(
      ["deno", "run", ...flags, target.script].join(" "),
      tasks[target.service]!.trim().replace(/\s+/g, " "),
      `task ${target.service}`,
    );
    assert.ok(flags.some((flag) => flag.startsWith("--allow-net")), `${target.service} net`);
    assert.ok(!flags.includes("--allow-all") && !flags.includes("-A"), `${target.service} narrow`);
    const args = compileArgs(target, flags, { out: "dist/", target: "x86_64-unknown-linux-gnu" });
    assert.deepEqual(args.slice(0, 1 + flags.length), ["compile", ...flags]);
    assert.deepEqual(args.slice(-3), ["--output", `dist/${target.service}`, target.script]);
    assert.ok(args.includes("--target"));
    for (const include of target.include) {
      assert.equal(args[args.indexOf(include) - 1], "--include");
    }
  }
});

Deno.test("compile wiring: a task that is not `deno run <flags> <script>` is refused", () => {
  const target = COMPILE_TARGETS[0]!;
  assert.throws(
    () => taskPermissionFlags({ [target.service]: "echo hi" }, target),
    /must read "deno run <flags>/,
  );
  assert.throws(() => taskPermissionFlags({}, target), /has no task/);
  assert.throws(
    () => taskPermissionFlags({ [target.service]: `deno run -A ${target.script}` }, target),
    /flags must be written --name/,
  );
});

Deno.test("compile wiring: every included file or folder exists", async () => {
  const includes = COMPILE_TARGETS.flatMap((target) => target.include);
  assert.ok(includes.includes("core/tools/_calculator_worker.ts"));
  assert.ok(includes.includes("core/dashboard/web"));
  for (const include of includes) {
    const info = await Deno.stat(`${PROJECT_ROOT}${include}`);
    assert.ok(info.isFile || info.isDirectory, include);
  }
});

Deno.test("compile wiring: --dry-run prints one deno compile command per service", async () => {
  const result = await runTask(["--dry-run", "--out", "dist"]);
  assert.equal(result.code, 0, result.stderr);
  const lines = result.stdout.trim().split("\n");
  assert.equal(lines.length, COMPILE_TARGETS.length);
  const tasks = readTasks();
  for (const [index, target] of COMPILE_TARGETS.entries()) {
    const line = lines[index]!;
    assert.ok(line.startsWith("deno compile "), line);
    const permissions = taskPermissionFlags(tasks, target).map(shellWord).join(" ");
    assert.ok(line.includes(permissions), line);
    assert.ok(line.endsWith(`--output dist/${target.service} ${target.script}`), line);
  }
  const unknown = await runTask(["--dry-run", "nonsense"]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /Unknown service nonsense; valid: chat_node/);
});

Deno.test("compile wiring: every service answers --help under exactly its task's permissions", async () => {
  // The executables carry these permissions, so what fails here would fail in them too.
  const results = await Promise.all(COMPILE_TARGETS.map(async (target) => {
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["task", "-q", target.service, "--help"],
      cwd: PROJECT_ROOT,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(60_000),
    }).output();
    return { target, output };
  }));
  for (const { target, output } of results) {
    assert.equal(output.code, 0, `${target.service}: ${decoder.decode(output.stderr)}`);
    assert.match(decoder.decode(output.stdout), new RegExp(`^Usage: ${target.service}`, "m"));
  }
});

Deno.test("compile wiring: a download failure is recognised as a missing runtime", () => {
  assert.ok(isMissingRuntimeError(
    "error: Writing deno compile executable\nCaused by:\n 0: Setting up base binary.\n" +
      " 1: error sending request for url (https://example.invalid/denort-x.zip): dns error",
  ));
  assert.ok(!isMissingRuntimeError("error: TS2322 Type 'string' is not assignable"));
});

const runtime = await findDenort();
const tmpPrefix = "compile_test_";

if (runtime) {
  Deno.test(
    `compile (real, denort from ${runtime.source}): tools compiles and its executable runs --help`,
    async () => {
      const out = await Deno.makeTempDir({ prefix: tmpPrefix });
      try {
        const result = await runTask(["--out", out, "tools"]);
        assert.equal(result.code, 0, result.stdout + result.stderr);
        const binary = `${out}/tools${Deno.build.os === "windows" ? ".exe" : ""}`;
        assert.ok((await Deno.stat(binary)).size > 1_000_000);
        const help = await new Deno.Command(binary, {
          args: ["--help"],
          stdin: "null",
          stdout: "piped",
          stderr: "piped",
          signal: AbortSignal.timeout(30_000),
        }).output();
        assert.equal(help.code, 0, decoder.decode(help.stderr));
        const text = decoder.decode(help.stdout);
        assert.match(text, /Usage: tools/);
        assert.match(text, /--bootstrap-servers/);
      } finally {
        await Deno.remove(out, { recursive: true });
      }
    },
  );
} else {
  Deno.test(
    "compile (WIRING ONLY, no denort here: nothing compiled; set DENORT_BIN to compile for real): " +
      "the task says plainly that the runtime is unavailable",
    async () => {
      console.log(
        "  No denort runtime: DENORT_BIN is unset and Deno's cache has none, so no executable " +
          "was built or run by this test.",
      );
      const out = await Deno.makeTempDir({ prefix: tmpPrefix });
      try {
        // An unreachable proxy makes the runtime download fail the same way online and offline.
        const result = await runTask(["--out", out, "ledger"], {
          HTTPS_PROXY: "http://127.0.0.1:9",
          HTTP_PROXY: "http://127.0.0.1:9",
          NO_PROXY: "",
        });
        assert.equal(result.code, NO_RUNTIME_EXIT_CODE, result.stdout + result.stderr);
        assert.match(result.stderr, /needs the Deno runtime \(denort\)/);
        assert.match(result.stderr, /Nothing was compiled/);
        assert.match(result.stderr, /DENORT_BIN/);
        assert.deepEqual([...Deno.readDirSync(out)].map((entry) => entry.name), []);
      } finally {
        await Deno.remove(out, { recursive: true });
      }
    },
  );
}
