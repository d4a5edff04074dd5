/**
 * The offline `rules` model: a deterministic ModelProvider that plays a strategy's rules policy
 * (core/agents/rules.ts) through the same protocols as an LLM (core/models/policy_protocol.ts). It
 * is labelled `rules` wherever it appears and is never presented as an LLM.
 *
 * The policy is the request's `rulesPolicy` (the router sends its strategy's rules policy id),
 * else a policy id in the agent name, else momentum; prompts are never parsed for it.
 */

import { decideRules } from "../agents/rules.ts";
import { isRulesPolicyId, rulesForAgentName, type RulesPolicyId } from "../agents/strategies.ts";
import type { ModelProvider, ModelRequest, ModelResponse } from "../runtime/model_provider.ts";
import { policyAnswer, policyResponse } from "./policy_protocol.ts";

/** The model id of the offline rules model. */
export const RULES_MODEL_ID = "rules";

/** Options for {@linkcode RulesModel}. */
export interface RulesModelOptions {
  /** Plays this policy for every agent instead of choosing by prompt and name. */
  strategy?: RulesPolicyId;
  /** Part of every tool call id, unique per run (default: random per model instance). */
  runId?: string;
  /** Quantity increments by product, e.g. a masked replay's (default the ledger's). */
  increments?: Readonly<Record<string, string>>;
  /** The desk's taker fee in basis points, so the policies clear the round trip (default 60). */
  takerFeeBps?: number;
}

/** The offline rules model. */
export class RulesModel implements ModelProvider {
  /** Always `rules`. */
  readonly model: string = RULES_MODEL_ID;
  #strategy?: RulesPolicyId;
  #runId: string;
  #increments?: Readonly<Record<string, string>>;
  #takerFeeBps?: number;

  /** Creates the model; without a fixed strategy the policy is chosen per request. */
  constructor(options: RulesModelOptions = {}) {
    this.#strategy = options.strategy;
    this.#runId = options.runId ?? crypto.randomUUID().slice(0, 8);
    this.#increments = options.increments;
    this.#takerFeeBps = options.takerFeeBps;
  }

  /** Answers one step of the decision protocol; deterministic for the same request. */
  complete(request: ModelRequest): Promise<ModelResponse> {
    const policy: RulesPolicyId = this.#strategy ??
      (request.rulesPolicy !== undefined && isRulesPolicyId(request.rulesPolicy)
        ? request.rulesPolicy
        : rulesForAgentName(request.agent));
    const message = policyAnswer(request, {
      label: RULES_MODEL_ID,
      runId: this.#runId,
      decide: (input) =>
        decideRules(policy, {
          ...input,
          increments: this.#increments,
          // The serving desk's terms when the request states them (a chat node of its own).
          takerFeeBps: request.desk?.takerFeeBps ?? this.#takerFeeBps,
          allowShort: request.desk?.allowShort,
          maxLeverage: request.desk?.maxLeverage,
        }),
    });
    return Promise.resolve(policyResponse(request, message, RULES_MODEL_ID));
  }
}
