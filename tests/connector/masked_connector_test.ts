import assert from "node:assert/strict";
import { arenaTopics } from "../../core/bus/topics.ts";
import type { MarketSnapshot } from "../../core/contracts/market.ts";
import { kafkaBootstrap, testKafkaBus, uniqueName } from "../_kafka.ts";
import { topicValues } from "./_helpers.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

async function connector(args: string[]): Promise<{ code: number; stderr: string }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", "connector", ...args],
    cwd: ROOT,
    env: { KAFKA_BOOTSTRAP_SERVERS: kafkaBootstrap(), NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: output.code, stderr: new TextDecoder().decode(output.stderr) };
}

Deno.test("connector --replay --mask publishes masked snapshots and shows the mask after", async () => {
  const prefix = `${uniqueName("test.mask")}.`;
  const { code, stderr } = await connector([
    "--replay",
    "fixtures/market/alt-2018-04-05",
    "--mask",
    "--mask-seed",
    "9",
    "--max-ticks",
    "2",
    "--topic-prefix",
    prefix,
  ]);
  assert.equal(code, 0, stderr);
  assert.match(stderr, /Mask of this replay:\n {2}ASSET[ABC]-USD = (BTC|ETH|LTC)-USD: prices x/);
  assert.match(stderr, /T\+0h00m = 2018-04-05T04:00:00.000Z \(seed 9\)/);
  const bus = testKafkaBus();
  try {
    const snapshots = await topicValues<MarketSnapshot>(bus, arenaTopics(prefix).snapshots.topic);
    assert.equal(snapshots.length, 2);
    assert.equal(snapshots[0]!.time, "1970-01-02T00:00:00.000Z");
    assert.ok(snapshots.every((snapshot) => snapshot.masked === true));
    assert.deepEqual(
      snapshots[0]!.products.map((product) => product.productId).sort(),
      ["ASSETA-USD", "ASSETB-USD", "ASSETC-USD"],
    );
  } finally {
    await bus.close();
  }
});

Deno.test("connector refuses --mask on live data and --mask-seed without --mask (usage, exit 2)", async () => {
  const live = await connector(["--mask", "--products", "BTC-USD"]);
  assert.equal(live.code, 2);
  assert.match(live.stderr, /--mask applies to --replay/);
  const seedOnly = await connector([
    "--replay",
    "fixtures/market/alt-2018-04-05",
    "--mask-seed",
    "3",
    "--topic-prefix",
    `${uniqueName("test.mask")}.`,
  ]);
  assert.equal(seedOnly.code, 2);
  assert.match(seedOnly.stderr, /--mask-seed applies to --mask/);
});
