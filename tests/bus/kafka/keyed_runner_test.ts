import assert from "node:assert/strict";
import { KeyedRunner } from "../../../core/bus/kafka/keyed_runner.ts";

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

Deno.test("keyed runner runs one key's tasks in order, other keys alongside", async () => {
  const runner = new KeyedRunner(4);
  const log: string[] = [];
  const task = (name: string, ms: number) => async () => {
    log.push(`start ${name}`);
    await delay(ms);
    log.push(`end ${name}`);
  };
  await Promise.all([
    runner.run("a", task("a1", 30)),
    runner.run("b", task("b1", 5)),
    runner.run("a", task("a2", 1)),
  ]);
  assert.ok(log.indexOf("end a1") < log.indexOf("start a2"), "a2 waits for a1");
  assert.ok(log.indexOf("end b1") < log.indexOf("end a1"), "b1 ran alongside a1");
});

Deno.test("keyed runner runs no more tasks at once than its concurrency", async () => {
  const runner = new KeyedRunner(2);
  let running = 0;
  let most = 0;
  await Promise.all(Array.from({ length: 8 }, (_, index) =>
    runner.run(`key-${index}`, async () => {
      running++;
      most = Math.max(most, running);
      await delay(5);
      running--;
    })));
  assert.equal(most, 2);
});

Deno.test("keyed runner passes a task's failure on and runs the key's next task", async () => {
  const runner = new KeyedRunner(1);
  const failed = runner.run("a", () => Promise.reject(new Error("Handler broke")));
  let ran = false;
  const next = runner.run("a", () => {
    ran = true;
    return Promise.resolve();
  });
  await assert.rejects(failed, /Handler broke/);
  await next;
  assert.ok(ran);
});

Deno.test("keyed runner refuses a concurrency below one", () => {
  assert.throws(() => new KeyedRunner(0), /Concurrency must be a positive whole number, got 0/);
});
