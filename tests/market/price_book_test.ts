import assert from "node:assert/strict";
import { ManualClock } from "../../core/market/clock.ts";
import {
  DEFAULT_MAX_QUOTE_AGE_MS,
  LIVE_CLOCK_TOLERANCE_MS,
  quoteAgeMs,
  QuoteClock,
} from "../../core/market/price_book.ts";

const WALL = Date.parse("2026-12-01T12:00:00.000Z");
const REPLAY = Date.parse("2017-09-03T12:00:00.000Z");

Deno.test("a live feed's market clock is the wall clock, so quotes age while it is gone", () => {
  const wall = new ManualClock(WALL);
  const clock = new QuoteClock(wall);
  assert.equal(clock.now(), undefined);
  clock.observe(WALL - 2_000);
  assert.equal(clock.live, true);
  wall.set(WALL + 38_800);
  assert.equal(clock.now(), WALL + 38_800);
  assert.equal(quoteAgeMs(WALL - 2_000, clock.now()!), 40_800);
});

Deno.test("a replay's market clock is its newest quote and waits while the feed waits", () => {
  const wall = new ManualClock(WALL);
  const clock = new QuoteClock(wall);
  clock.observe(REPLAY);
  clock.observe(REPLAY - 60_000); // an older quote of another product moves nothing
  assert.equal(clock.live, false);
  wall.set(WALL + 3_600_000);
  assert.equal(clock.now(), REPLAY);
  clock.observe(REPLAY + 60_000);
  assert.equal(clock.now(), REPLAY + 60_000);
});

Deno.test("a feed counts as live only within the tolerance of the wall clock", () => {
  const clock = new QuoteClock(new ManualClock(WALL));
  clock.observe(WALL - LIVE_CLOCK_TOLERANCE_MS - 1);
  assert.equal(clock.live, false);
  clock.observe(WALL - LIVE_CLOCK_TOLERANCE_MS + 1);
  assert.equal(clock.live, true);
  assert.equal(DEFAULT_MAX_QUOTE_AGE_MS, 120_000);
  assert.equal(quoteAgeMs(WALL + 5, WALL), 0, "a quote ahead of the clock is not negative");
});
