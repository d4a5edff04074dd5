import assert from "node:assert/strict";
import { OffsetTracker } from "../../../core/bus/kafka/offset_tracker.ts";

Deno.test("offset tracker commits one past the last finished record of a partition", () => {
  const tracker = new OffsetTracker();
  tracker.receive("t", 0, "7");
  assert.deepEqual(tracker.uncommitted(), [], "nothing finished, nothing to commit");
  tracker.finish("t", 0, "7");
  assert.deepEqual(tracker.uncommitted(), [{ topic: "t", partition: 0, offset: "8" }]);
});

Deno.test("offset tracker never commits past the lowest unfinished record", () => {
  const tracker = new OffsetTracker();
  for (const offset of ["10", "11", "12", "13"]) tracker.receive("t", 1, offset);
  tracker.finish("t", 1, "11");
  tracker.finish("t", 1, "13");
  assert.deepEqual(tracker.uncommitted(), [{ topic: "t", partition: 1, offset: "10" }]);
  tracker.finish("t", 1, "10");
  assert.deepEqual(tracker.uncommitted(), [{ topic: "t", partition: 1, offset: "12" }]);
  tracker.finish("t", 1, "12");
  assert.deepEqual(tracker.uncommitted(), [{ topic: "t", partition: 1, offset: "14" }]);
});

Deno.test("offset tracker reports only offsets that moved since their commit", () => {
  const tracker = new OffsetTracker();
  tracker.receive("a", 0, "0");
  tracker.receive("b", 2, "5");
  tracker.finish("a", 0, "0");
  tracker.finish("b", 2, "5");
  const offsets = tracker.uncommitted();
  assert.equal(offsets.length, 2);
  tracker.committed(offsets);
  assert.deepEqual(tracker.uncommitted(), []);
  tracker.receive("a", 0, "1");
  tracker.finish("a", 0, "1");
  assert.deepEqual(tracker.uncommitted(), [{ topic: "a", partition: 0, offset: "2" }]);
});

Deno.test("offset tracker skips records fetched again after they finished or while running", () => {
  const tracker = new OffsetTracker();
  assert.equal(tracker.receive("t", 0, "0"), true);
  assert.equal(tracker.receive("t", 0, "1"), true);
  tracker.finish("t", 0, "0");
  assert.equal(tracker.receive("t", 0, "0"), false, "finished");
  assert.equal(tracker.receive("t", 0, "1"), false, "still running");
  assert.equal(tracker.isFinished("t", 0, "0"), true);
  assert.equal(tracker.isFinished("t", 0, "1"), false);
});

Deno.test("offset tracker forgets partitions revoked by a rebalance", () => {
  const tracker = new OffsetTracker();
  tracker.receive("t", 0, "0");
  tracker.receive("t", 1, "0");
  tracker.finish("t", 0, "0");
  tracker.finish("t", 1, "0");
  tracker.retain({ t: [1] });
  assert.deepEqual(tracker.uncommitted(), [{ topic: "t", partition: 1, offset: "1" }]);
});

Deno.test("offset tracker keeps offsets beyond 2^53 exact", () => {
  const tracker = new OffsetTracker();
  tracker.receive("t", 0, "9007199254740993");
  tracker.finish("t", 0, "9007199254740993");
  assert.deepEqual(tracker.uncommitted(), [{
    topic: "t",
    partition: 0,
    offset: "9007199254740994",
  }]);
});
