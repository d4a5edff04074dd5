/**
 * The calculator's evaluator: the restricted mathjs runs in a Web Worker; an expression that
 * takes longer than the time limit terminates the worker (a fresh one starts on the next call),
 * so the calculator never hangs the tools service.
 */

import { MAX_EXPRESSION_LENGTH } from "./safe_math.ts";

/** Options for {@linkcode Calculator}. */
export interface CalculatorOptions {
  /** Longest evaluation in ms before the worker is terminated (default 1000). */
  timeoutMs?: number;
}

/** What an evaluation returns: the formatted result or an error message. */
export interface CalculatorResult {
  /** Whether the expression evaluated. */
  ok: boolean;
  /** The result, or what was wrong. */
  content: string;
}

interface Pending {
  resolve(result: CalculatorResult): void;
  timer: ReturnType<typeof setTimeout>;
}

/** Evaluates expressions in a worker with a time limit. */
export class Calculator {
  #timeoutMs: number;
  #worker?: Worker;
  #ready?: Promise<void>;
  #pending = new Map<number, Pending>();
  #nextId = 1;

  constructor(options: CalculatorOptions = {}) {
    this.#timeoutMs = options.timeoutMs ?? 1_000;
  }

  #start(): Promise<void> {
    if (this.#ready) return this.#ready;
    const worker = new Worker(new URL("./_calculator_worker.ts", import.meta.url).href, {
      type: "module",
    });
    this.#worker = worker;
    this.#ready = new Promise<void>((resolve, reject) => {
      worker.onmessage = (event: MessageEvent) => {
        const data = event.data as { ready?: boolean; id?: number } & CalculatorResult;
        if (data.ready) {
          resolve();
          return;
        }
        const pending = this.#pending.get(data.id!);
        if (!pending) return;
        this.#pending.delete(data.id!);
        clearTimeout(pending.timer);
        pending.resolve({ ok: data.ok, content: data.content });
      };
      worker.onerror = (event: ErrorEvent) => {
        event.preventDefault();
        reject(new Error(`Calculator worker failed: ${event.message}`));
        this.#restart(`Calculator failed: ${event.message}`);
      };
    });
    return this.#ready;
  }

  #restart(reason: string): void {
    this.#worker?.terminate();
    this.#worker = undefined;
    this.#ready = undefined;
    for (const [id, pending] of this.#pending) {
      clearTimeout(pending.timer);
      pending.resolve({ ok: false, content: reason });
      this.#pending.delete(id);
    }
  }

  /** Loads mathjs in the worker ahead of the first expression. */
  async warmUp(): Promise<void> {
    await this.#start();
  }

  /** Evaluates one expression; never takes much longer than the time limit. */
  async evaluate(expression: string): Promise<CalculatorResult> {
    if (expression.length > MAX_EXPRESSION_LENGTH) {
      return {
        ok: false,
        content:
          `Expression must be at most ${MAX_EXPRESSION_LENGTH} characters, got ${expression.length}`,
      };
    }
    if (expression.trim() === "") {
      return { ok: false, content: "Expression must not be empty, e.g. 100000 * 0.25 / 4652.69" };
    }
    await this.#start();
    const id = this.#nextId++;
    return await new Promise<CalculatorResult>((resolve) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        resolve({
          ok: false,
          content: `Expression took longer than ${this.#timeoutMs} ms and was stopped; simplify it`,
        });
        this.#restart("Calculator restarted after a timeout");
      }, this.#timeoutMs);
      this.#pending.set(id, { resolve, timer });
      this.#worker!.postMessage({ id, expression });
    });
  }

  /** Terminates the worker. */
  close(): void {
    this.#restart("Calculator closed");
  }
}
