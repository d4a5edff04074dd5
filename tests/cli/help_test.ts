/** `--help` answers at once and starts nothing; every service has the same default log level. */

import assert from "node:assert/strict";
import { LOG_LEVEL_TASKS, mapLimited, runTask } from "./_task.ts";

Deno.test("deno task bench --help and deno task test --help print help and start nothing", async () => {
  const env = { KAFKA_BOOTSTRAP_SERVERS: "127.0.0.1:1" };
  for (const task of ["bench", "test"]) {
    const result = await runTask([task, "--help"], { env });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`^Usage: deno task ${task}`));
    // Starting anything would first look for a broker and say so on standard error.
    assert.equal(result.stderr, "", `${task} --help starts nothing`);
    assert.ok(result.ms < 10_000, `${task} --help took ${result.ms} ms`);
  }
  const bench = await runTask(["bench", "-h"], { env });
  assert.match(bench.stdout, /Benchmarks: .*agents/);
});

Deno.test("every service's --log-level defaults to warn", async () => {
  const tasks = LOG_LEVEL_TASKS;
  const results = await mapLimited(tasks, 4, (task) => runTask([task, "--help"]));
  for (const [index, result] of results.entries()) {
    assert.equal(result.code, 0, `${tasks[index]}: ${result.stderr}`);
    assert.match(
      result.stdout.replace(/\s+/g, " "),
      /--log-level <level> debug, info, warn or error \(default: "warn"\)/,
      tasks[index],
    );
  }
});
