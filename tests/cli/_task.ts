/** Runs `deno task <name> ...` as a user would, with the task's own permissions from deno.json. */

const ROOT = new URL("../../", import.meta.url).pathname;

/** What a task run printed and how it ended. */
export interface TaskResult {
  /** Exit code. */
  code: number;
  /** Standard output. */
  stdout: string;
  /** Standard error, trimmed. */
  stderr: string;
  /** Wall-clock milliseconds from spawn to exit. */
  ms: number;
}

/** Runs one task to its end (killed after `timeoutMs`, default 30 s) with a plain environment. */
export async function runTask(
  args: string[],
  options: { env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<TaskResult> {
  const started = performance.now();
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1", ...options.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
  }).output();
  return {
    code: output.code,
    stdout: new TextDecoder().decode(output.stdout),
    stderr: new TextDecoder().decode(output.stderr).trim(),
    ms: performance.now() - started,
  };
}

/** Runs `jobs` with at most `limit` at a time (the machine has few cores), in order of results. */
export async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  job: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  async function worker(): Promise<void> {
    while (next < items.length) {
      const index = next++;
      results[index] = await job(items[index]!);
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** A TCP port on 127.0.0.1 with nothing listening (bound once, then released). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Every task that takes `--log-level`. */
export const LOG_LEVEL_TASKS: readonly string[] = [
  "chat_node",
  "router",
  "tools",
  "connector",
  "dashboard",
  "ledger",
  "report",
  "arena",
  "tournament",
];
