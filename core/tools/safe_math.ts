/** A restricted mathjs instance: arithmetic and functions only, no parser escapes. */

import { all, create } from "mathjs";

/** Longest expression accepted, in characters. */
export const MAX_EXPRESSION_LENGTH = 200;

/** Largest array or matrix a result or argument may hold, in elements. */
export const MAX_ELEMENTS = 1_000;

/** Functions removed from expressions: code loading, parsing, symbolic maths, big matrices. */
export const DISABLED_FUNCTIONS: readonly string[] = [
  "import",
  "createUnit",
  "evaluate",
  "parse",
  "compile",
  "simplify",
  "simplifyConstant",
  "simplifyCore",
  "derivative",
  "resolve",
  "reviver",
  "replacer",
  "rationalize",
  "leafCount",
  "symbolicEqual",
  "chain",
  "help",
  "range",
  "zeros",
  "ones",
  "identity",
  "diag",
  "resize",
  "reshape",
  "kron",
  "random",
  "randomInt",
  "pickRandom",
  "matrixFromRows",
  "matrixFromColumns",
  "matrixFromFunction",
  "sparse",
  "map",
  "forEach",
  "filter",
];

/**
 * Rewrites Python's power operator `**` as mathjs's `^` (the original's calculator took `**`).
 * Both are right-associative and bind tighter than unary minus: `2**3**2` is 512, `-2**2` is -4.
 */
export function pythonPower(expression: string): string {
  return expression.replaceAll("**", "^");
}

/** Evaluates one expression in a fresh scope of the restricted instance. */
export type SafeEvaluate = (expression: string) => string;

/** Builds the restricted evaluator: mathjs `create(all)` with dangerous functions disabled. */
export function createSafeMath(): SafeEvaluate {
  const math = create(all!, { number: "number", precision: 64 });
  const evaluate = math.evaluate;
  const format = math.format;
  const disabled: Record<string, () => never> = {};
  for (const name of DISABLED_FUNCTIONS) {
    disabled[name] = () => {
      throw new Error(`Function ${name} is not available in the calculator`);
    };
  }
  math.import(disabled, { override: true });
  return (expression: string): string => {
    if (expression.length > MAX_EXPRESSION_LENGTH) {
      throw new Error(
        `Expression must be at most ${MAX_EXPRESSION_LENGTH} characters, got ${expression.length}`,
      );
    }
    const result = evaluate(pythonPower(expression), {});
    if (typeof result === "function") {
      throw new Error("Expression must compute a value, not define a function");
    }
    const size = (result as { size?: () => number[] })?.size?.();
    if (Array.isArray(size) && size.reduce((a, b) => a * b, 1) > MAX_ELEMENTS) {
      throw new Error(`Result must have at most ${MAX_ELEMENTS} elements`);
    }
    const text = format(result, { precision: 14 });
    return text.length > 2_000 ? `${text.slice(0, 2_000)}...` : text;
  };
}
