/** Building blocks shared by every message schema. */

import { z } from "zod";

/** Version of the message contracts; bumped on incompatible changes. */
export const CONTRACT_VERSION = 1;

/** The version field carried by every message. */
export const Version: z.ZodLiteral<1> = z.literal(CONTRACT_VERSION);

/** An exact decimal number written as a string, e.g. `"4652.69"` or `"-0.5"`. */
export const DecimalString: z.ZodString = z.string().regex(
  /^-?\d+(\.\d+)?$/,
  'Expected a decimal number as a string, e.g. "4652.69"',
);

/** An ISO-8601 UTC timestamp on the market clock. */
export const Timestamp: z.ZodISODateTime = z.iso.datetime();

/** A Coinbase product id such as `BTC-USD`. */
export const ProductId: z.ZodString = z.string().regex(
  /^[A-Z0-9]{1,12}-[A-Z0-9]{2,6}$/,
  "Expected a product id like BTC-USD",
);

/** An agent name: consumer group, topic suffix and ledger key. */
export const AgentName: z.ZodString = z.string().regex(
  /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/,
  "Expected an agent name of letters, digits, '.', '_' or '-' (at most 64)",
);
