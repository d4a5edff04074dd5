/** The market of the arena tests: a fixture replay in lockstep. */

import type { ReplayMarket } from "../../core/arena/arena.ts";
import { type FixtureSet, loadFixtureCandles } from "../../core/connector/replay.ts";

/** A lockstep replay of a fixture set at one snapshot per 5 market minutes. */
export async function lockstepReplay(
  set: FixtureSet,
  options: Omit<ReplayMarket, "kind" | "source"> = {},
): Promise<ReplayMarket> {
  return {
    kind: "replay",
    source: await loadFixtureCandles(set),
    intervalSeconds: 300,
    lockstep: true,
    ...options,
  };
}
