/**
 * The offline `random` model: a seeded ModelProvider that plays the random policy
 * (core/agents/random_policy.ts) through the same protocols, tools and ledger as every other
 * model (core/models/policy_protocol.ts).
 * Each agent it serves has its own target (trades and turnover to match) and seed; an agent
 * without a target holds. It trades what the request's desk allows (shorts, leverage). Used by
 * tournaments as the luck baseline; never presented as an LLM.
 */

import { decideRandom, type RandomTarget } from "../agents/random_policy.ts";
import type { ModelProvider, ModelRequest, ModelResponse } from "../runtime/model_provider.ts";
import { policyAnswer, policyResponse } from "./policy_protocol.ts";

/** The model id of the random baseline model. */
export const RANDOM_MODEL_ID = "random";

/** Options for {@linkcode RandomModel}. */
export interface RandomModelOptions {
  /** Target (trades, notional, ticks, seed) per agent name. */
  targets: ReadonlyMap<string, RandomTarget>;
  /** Taker fee in basis points of the desk (default 60). */
  takerFeeBps?: number;
  /** Part of every tool call id, unique per run (default: random per model instance). */
  runId?: string;
}

/** The random baseline model. */
export class RandomModel implements ModelProvider {
  /** Always `random`. */
  readonly model: string = RANDOM_MODEL_ID;
  #targets: ReadonlyMap<string, RandomTarget>;
  #takerFeeBps: number | undefined;
  #runId: string;

  /** Creates the model for the agents of `options.targets`. */
  constructor(options: RandomModelOptions) {
    this.#targets = options.targets;
    this.#takerFeeBps = options.takerFeeBps;
    this.#runId = options.runId ?? crypto.randomUUID().slice(0, 8);
  }

  /** Answers one step of the decision protocol; deterministic for the same request. */
  complete(request: ModelRequest): Promise<ModelResponse> {
    const target = this.#targets.get(request.agent);
    const message = policyAnswer(request, {
      label: RANDOM_MODEL_ID,
      runId: this.#runId,
      decide: (input) =>
        target
          ? decideRandom(input, {
            target,
            takerFeeBps: this.#takerFeeBps,
            allowShort: request.desk?.allowShort,
            maxLeverage: request.desk?.maxLeverage,
          })
          : "random: no target for this agent, holding",
    });
    return Promise.resolve(policyResponse(request, message, RANDOM_MODEL_ID));
  }
}
