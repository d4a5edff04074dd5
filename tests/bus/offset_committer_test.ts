import assert from "node:assert/strict";
import { OffsetCommitter } from "../../core/bus/offset_committer.ts";
import { type CommitOffset, OffsetTracker } from "../../core/bus/kafka/offset_tracker.ts";
import { createLogger } from "../../core/log.ts";

const log = createLogger("test.committer", { level: "error" });

Deno.test("offset committer keeps one commit in flight and sends the rest in the next", async () => {
  const tracker = new OffsetTracker();
  const sent: CommitOffset[][] = [];
  const answers: (() => void)[] = [];
  const committer = new OffsetCommitter({
    tracker,
    log,
    intervalMs: 0,
    commit: (offsets) => {
      sent.push(offsets);
      return new Promise<void>((resolve) => answers.push(resolve));
    },
  });
  for (let offset = 0; offset < 5; offset++) tracker.receive("t", 0, String(offset));
  tracker.finish("t", 0, "0");
  committer.schedule();
  for (let offset = 1; offset < 5; offset++) {
    tracker.finish("t", 0, String(offset));
    committer.schedule();
  }
  assert.equal(sent.length, 1, "later finishes wait for the commit in flight");
  const flushed = committer.flush();
  answers.shift()!();
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(sent.length, 2, "one more commit carries every offset finished meanwhile");
  assert.deepEqual(sent[1], [{ topic: "t", partition: 0, offset: "5" }]);
  answers.shift()!();
  await flushed;
  assert.deepEqual(tracker.uncommitted(), []);
});

Deno.test("offset committer keeps offsets of a failed commit for the next one", async () => {
  const tracker = new OffsetTracker();
  let fail = true;
  const sent: CommitOffset[][] = [];
  const committer = new OffsetCommitter({
    tracker,
    log,
    commit: (offsets) => {
      sent.push(offsets);
      return fail ? Promise.reject(new Error("Rebalance in progress")) : Promise.resolve();
    },
  });
  tracker.receive("t", 0, "0");
  tracker.finish("t", 0, "0");
  await committer.flush();
  assert.deepEqual(tracker.uncommitted(), [{ topic: "t", partition: 0, offset: "1" }]);
  fail = false;
  await committer.flush();
  assert.deepEqual(tracker.uncommitted(), []);
  assert.equal(sent.length, 2);
});

Deno.test("offset committer starts commits at most once per interval, at once after a lull", async () => {
  const tracker = new OffsetTracker();
  const sent: CommitOffset[][] = [];
  const committer = new OffsetCommitter({
    tracker,
    log,
    intervalMs: 60,
    commit: (offsets) => {
      sent.push(offsets);
      return Promise.resolve();
    },
  });
  const finish = (offset: number) => {
    tracker.receive("t", 0, String(offset));
    tracker.finish("t", 0, String(offset));
    committer.schedule();
  };
  finish(0);
  assert.equal(sent.length, 1, "the first record after a lull is committed at once");
  await new Promise((resolve) => setTimeout(resolve, 5));
  for (let offset = 1; offset <= 5; offset++) finish(offset);
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(sent.length, 1, "records finished within the interval wait for it");
  await new Promise((resolve) => setTimeout(resolve, 80));
  assert.equal(sent.length, 2, "then one commit carries them all");
  assert.deepEqual(sent[1], [{ topic: "t", partition: 0, offset: "6" }]);
  finish(6);
  await committer.flush();
  assert.equal(sent.length, 3, "flush commits at once, without waiting for the interval");
  assert.deepEqual(tracker.uncommitted(), []);
});
