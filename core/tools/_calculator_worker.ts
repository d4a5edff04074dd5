/** Worker that evaluates calculator expressions so a runaway one can be terminated. */

import { createSafeMath } from "./safe_math.ts";

const evaluate = createSafeMath();

interface WorkerScope {
  onmessage: ((event: MessageEvent<{ id: number; expression: string }>) => void) | null;
  postMessage(message: unknown): void;
}

const scope = self as unknown as WorkerScope;
scope.onmessage = (event) => {
  const { id, expression } = event.data;
  try {
    scope.postMessage({ id, ok: true, content: evaluate(expression) });
  } catch (error) {
    scope.postMessage({ id, ok: false, content: (error as Error).message ?? String(error) });
  }
};
scope.postMessage({ ready: true });
