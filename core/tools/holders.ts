/**
 * Which agents hold a position in each product: the accounts a price tick can close, so the
 * engine's exit check on a tick looks at those accounts only, never at every account.
 *
 * @example
 * ```ts ignore
 * const holders = new HolderIndex();
 * holders.set("momentum", "BTC-USD", true);
 * holders.of("BTC-USD"); // ["momentum"]
 * holders.set("momentum", "BTC-USD", false); // closed
 * ```
 */

/** Agents holding an open position, by product id. */
export class HolderIndex {
  #byProduct = new Map<string, Set<string>>();

  /** Records whether `agent` holds an open position in `productId` now. */
  set(agent: string, productId: string, holds: boolean): void {
    const agents = this.#byProduct.get(productId);
    if (holds) {
      if (agents) agents.add(agent);
      else this.#byProduct.set(productId, new Set([agent]));
      return;
    }
    agents?.delete(agent);
    if (agents?.size === 0) this.#byProduct.delete(productId);
  }

  /** The agents holding `productId`, as a copy that stays valid while the index changes. */
  of(productId: string): string[] {
    return [...(this.#byProduct.get(productId) ?? [])];
  }
}
