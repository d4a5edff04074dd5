/**
 * The margin account's maintenance rule (isolated margin per position, no funding).
 *
 * A position locks `margin = entry notional / leverage` from cash. Its equity at a price P is
 * `margin + P&L(P)`. It is liquidated at the first quote where that equity is at most the
 * maintenance margin: {@linkcode MAINTENANCE_MARGIN_RATE} plus the taker fee of its entry, of
 * its notional at P (so the liquidation's own fee is covered; only a quote that gaps past the
 * level leaves bad debt). With `m` that rate:
 * - long:  `margin + q x P - cost <= m x q x P`, i.e. `P <= (cost - margin) / (q x (1 - m))`
 * - short: `margin + cost - q x P <= m x q x P`, i.e. `P >= (cost + margin) / (q x (1 + m))`
 * A long at leverage 1 (a spot holding) has `cost == margin` and is never liquidated. Funding
 * payments are not modelled: the arena replays spot candles, which carry no funding rate.
 */

import type { Position } from "./account.ts";
import { bps, Money, ZERO } from "./money.ts";

/** Maintenance margin as a share of the position's notional at the mark (0.5 %), before the fee. */
export const MAINTENANCE_MARGIN_RATE: Money = new Money("0.005");

/** The fields of a position the maintenance rule reads. */
export type MarginedPosition = Pick<
  Position,
  "side" | "quantity" | "costBasis" | "margin" | "takerFeeBps"
>;

/** The position's maintenance rate: {@linkcode MAINTENANCE_MARGIN_RATE} plus its taker fee. */
export function maintenanceRate(position: Pick<Position, "takerFeeBps">): Money {
  return MAINTENANCE_MARGIN_RATE.plus(bps(position.takerFeeBps));
}

/** Decimal places of a liquidation price shown to agents (a display-only division). */
export const LIQUIDATION_PRICE_DECIMALS = 8;

/** True when the position's equity at `price` is at or below its maintenance margin. */
export function belowMaintenance(position: MarginedPosition, price: Money): boolean {
  const notional = position.quantity.times(price);
  const pnl = position.side === "long"
    ? notional.minus(position.costBasis)
    : position.costBasis.minus(notional);
  return position.margin.plus(pnl).lte(notional.times(maintenanceRate(position)));
}

/**
 * The price at which the position is liquidated, or undefined when none exists (a spot long).
 * Rounded to {@linkcode LIQUIDATION_PRICE_DECIMALS} places for display; the engine tests the
 * exact rule ({@linkcode belowMaintenance}) on every quote.
 */
export function liquidationPrice(position: MarginedPosition): Money | undefined {
  if (position.quantity.lte(0)) return undefined;
  const m = maintenanceRate(position);
  if (position.side === "long") {
    const room = position.costBasis.minus(position.margin);
    if (room.lte(ZERO)) return undefined;
    return room.div(position.quantity.times(new Money(1).minus(m)))
      .toDecimalPlaces(LIQUIDATION_PRICE_DECIMALS);
  }
  return position.costBasis.plus(position.margin)
    .div(position.quantity.times(m.plus(1)))
    .toDecimalPlaces(LIQUIDATION_PRICE_DECIMALS);
}
