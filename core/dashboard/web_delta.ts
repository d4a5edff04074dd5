/**
 * JSON deltas between two views, so live updates carry only what changed. The page applies
 * them with the same rules (core/dashboard/web/app.js, `applyDelta`).
 *
 * A delta is one of:
 * - `{ $v: value }`: the new value replaces the old one;
 * - `{ $o: { key: delta } }`: an object whose listed keys changed (`{ $d: 1 }` removes a key);
 * - `{ $l: [head, from, to, tail] }`: a list `head ++ old.slice(from, to) ++ tail` (appended
 *   points, prepended trades and feed lines);
 * - `{ $k: [field, order, { key: delta }] }`: a list of objects keyed by `field` (agents,
 *   products, positions) in the new `order`, with the deltas of the rows that changed (a new row
 *   is sent whole as `{ $v: row }`).
 */

/** Any JSON value. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A delta between two JSON values (see the module documentation). */
export type JsonDelta =
  | { $v: Json }
  | { $o: Record<string, JsonDelta | { $d: 1 }> }
  | { $l: [Json[], number, number, Json[]] }
  | { $k: [string, string[], Record<string, JsonDelta>] };

const KEY_FIELDS = ["name", "productId"];

/** The delta that turns `before` into `after`, or undefined when they are equal. */
export function diffJson(before: Json | undefined, after: Json): JsonDelta | undefined {
  if (before === after) return undefined;
  if (isObject(before) && isObject(after)) return diffObject(before, after);
  if (Array.isArray(before) && Array.isArray(after)) return diffList(before, after);
  if (before !== undefined && JSON.stringify(before) === JSON.stringify(after)) return undefined;
  return { $v: after };
}

/** Applies a delta made by {@linkcode diffJson}; unchanged parts keep their identity. */
export function applyJsonDelta(before: Json | undefined, delta: JsonDelta): Json {
  if ("$v" in delta) return delta.$v;
  if ("$o" in delta) {
    const out: Record<string, Json> = { ...(isObject(before) ? before : {}) };
    for (const [key, change] of Object.entries(delta.$o)) {
      if ("$d" in change) delete out[key];
      else out[key] = applyJsonDelta(out[key], change);
    }
    return out;
  }
  const list = Array.isArray(before) ? before : [];
  if ("$l" in delta) {
    const [head, from, to, tail] = delta.$l;
    return [...head, ...list.slice(from, to), ...tail];
  }
  const [field, order, changes] = delta.$k;
  const byKey = new Map<string, Json>();
  for (const item of list) if (isObject(item)) byKey.set(String(item[field]), item);
  return order.map((key) => {
    const change = changes[key];
    return change ? applyJsonDelta(byKey.get(key), change) : byKey.get(key) ?? null;
  });
}

function isObject(value: Json | undefined): value is { [key: string]: Json } {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function diffObject(
  before: { [key: string]: Json },
  after: { [key: string]: Json },
): JsonDelta | undefined {
  const changes: Record<string, JsonDelta | { $d: 1 }> = {};
  let changed = false;
  for (const [key, value] of Object.entries(after)) {
    const change = diffJson(before[key], value);
    if (change) {
      changes[key] = change;
      changed = true;
    }
  }
  for (const key of Object.keys(before)) {
    if (!(key in after)) {
      changes[key] = { $d: 1 };
      changed = true;
    }
  }
  return changed ? { $o: changes } : undefined;
}

/** The field that keys a list of objects, when every item has a distinct one. */
function keyField(before: Json[], after: Json[]): string | undefined {
  const sample = after[0] ?? before[0];
  if (!isObject(sample)) return undefined;
  for (const field of KEY_FIELDS) {
    if (typeof sample[field] !== "string") continue;
    const keyed = (list: Json[]) => {
      const keys = new Set<string>();
      for (const item of list) {
        if (!isObject(item) || typeof item[field] !== "string") return false;
        keys.add(item[field] as string);
      }
      return keys.size === list.length;
    };
    if (keyed(before) && keyed(after)) return field;
  }
  return undefined;
}

function diffList(before: Json[], after: Json[]): JsonDelta | undefined {
  const field = keyField(before, after);
  if (field) return diffKeyed(field, before, after);
  const same = (a: Json | undefined, b: Json | undefined) =>
    a === b || (a !== undefined && b !== undefined && JSON.stringify(a) === JSON.stringify(b));
  // Appended (and a changed tail): keep the common prefix.
  let prefix = 0;
  while (prefix < before.length && prefix < after.length && same(before[prefix], after[prefix])) {
    prefix++;
  }
  if (prefix === before.length && prefix === after.length) return undefined;
  if (prefix > 0) return { $l: [[], 0, prefix, after.slice(prefix)] };
  // Prepended (newest first), possibly with a few changed or dropped lines at the front.
  for (let skip = 0; skip < Math.min(4, before.length); skip++) {
    const start = after.findIndex((item) => same(item, before[skip]));
    if (start < 0) continue;
    let run = 0;
    while (
      start + run < after.length && skip + run < before.length &&
      same(after[start + run], before[skip + run])
    ) run++;
    if (start + run === after.length) {
      return { $l: [after.slice(0, start), skip, skip + run, []] };
    }
  }
  return { $l: [[], 0, 0, after] };
}

function diffKeyed(field: string, before: Json[], after: Json[]): JsonDelta | undefined {
  const byKey = new Map<string, Json>();
  for (const item of before) byKey.set(String((item as { [key: string]: Json })[field]), item);
  const order: string[] = [];
  const changes: Record<string, JsonDelta> = {};
  let changed = before.length !== after.length;
  for (const [index, item] of after.entries()) {
    const key = String((item as { [key: string]: Json })[field]);
    order.push(key);
    const old = byKey.get(key);
    if (before[index] !== old) changed = true;
    const change = old === undefined ? { $v: item } : diffJson(old, item);
    if (change) {
      changes[key] = change;
      changed = true;
    }
  }
  return changed ? { $k: [field, order, changes] } : undefined;
}
