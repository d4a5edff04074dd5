/** The trading desk's terms as tools nodes state them: fee, slippage, shorts and leverage. */

import { z } from "zod";

/**
 * What a tools node charges and allows, published with its tool catalog and carried by chat
 * requests, so offline models size trades with the real fee and the json protocol can state the
 * terms (its model never reads the `execute_trade` description).
 */
export const DeskTerms = z.object({
  /** Taker fee in basis points of each fill's notional. */
  takerFeeBps: z.number().int().nonnegative(),
  /** Price slippage against the trader in basis points. */
  slippageBps: z.number().nonnegative(),
  /** Whether a sell with nothing held opens a short. */
  allowShort: z.boolean(),
  /** Highest leverage a trade may ask for (1: no borrowing). */
  maxLeverage: z.number().int().min(1),
  /** Whether models are offered the exit plan and confidence fields. */
  exitPlans: z.boolean().optional(),
});
/** The desk's terms. */
export type DeskTerms = z.infer<typeof DeskTerms>;
