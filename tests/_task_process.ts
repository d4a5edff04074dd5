/** Long-running `deno task` processes for tests: started as a user would, stopped as a group. */

const ROOT = new URL("../", import.meta.url).pathname;

/** A `deno task` running in its own process group, with its output collected line by line. */
export interface TaskProcess {
  /** Name used in failure messages. */
  name: string;
  /** The `setsid` process that leads the group. */
  child: Deno.ChildProcess;
  /** Lines of standard output and standard error, as they came. */
  lines: string[];
  /** Lines of standard output alone (e.g. a JSON export). */
  stdout: string[];
  /** Resolves once both streams have ended. */
  drained: Promise<void>;
  /** Exit status once the process has exited. */
  exited: Deno.CommandStatus | null;
}

/** Options for {@linkcode startTask}. */
export interface StartTaskOptions {
  /** Environment added to this process's (NO_COLOR=1 is always set). */
  env?: Record<string, string>;
}

function collect(stream: ReadableStream<Uint8Array>, lines: string[]): Promise<void> {
  return (async () => {
    let rest = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      rest += chunk;
      const parts = rest.split("\n");
      rest = parts.pop() ?? "";
      lines.push(...parts);
    }
    if (rest) lines.push(rest);
  })();
}

/** Starts `deno task <args>` in a new session, so its whole process tree can be signalled. */
export function startTask(
  name: string,
  args: string[],
  options: StartTaskOptions = {},
): TaskProcess {
  const child = new Deno.Command("setsid", {
    args: [Deno.execPath(), "task", ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1", ...options.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines: string[] = [];
  const stdout: string[] = [];
  const [out, copy] = child.stdout.tee();
  const drained = Promise.all([
    collect(out, lines),
    collect(copy, stdout),
    collect(child.stderr, lines),
  ]).then(() => {});
  const task: TaskProcess = { name, child, lines, stdout, drained, exited: null };
  child.status.then((status) => (task.exited = status));
  return task;
}

function signalGroup(task: TaskProcess, signal: Deno.Signal): void {
  try {
    Deno.kill(-task.child.pid, signal);
  } catch {
    // The group has already exited.
  }
}

/** SIGTERM to the process group, SIGKILL after `graceMs`; resolves once it is gone. */
export async function stopTask(task: TaskProcess, graceMs = 10_000): Promise<Deno.CommandStatus> {
  if (!task.exited) signalGroup(task, "SIGTERM");
  const timer = setTimeout(() => signalGroup(task, "SIGKILL"), graceMs);
  const status = await task.child.status;
  clearTimeout(timer);
  // Whatever is left of the group (the service under `deno task`) goes too.
  signalGroup(task, "SIGKILL");
  await task.drained;
  return status;
}

/** The last `count` lines of a task's output, under its name, for failure messages. */
export function tail(task: TaskProcess, count = 40): string {
  return `--- ${task.name} (last ${count} lines) ---\n${task.lines.slice(-count).join("\n")}`;
}

/** Waits for a line matching `pattern`; fails if the task exits first or time runs out. */
export async function waitForLine(
  task: TaskProcess,
  pattern: RegExp,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!task.lines.some((line) => pattern.test(line))) {
    if (task.exited) {
      throw new Error(`${task.name} exited with ${task.exited.code}\n${tail(task)}`);
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${task.name}: no line matching ${pattern} in ${timeoutMs} ms\n${tail(task)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Waits for the task to exit on its own and its output to end; fails after `timeoutMs`. */
export async function waitForExit(
  task: TaskProcess,
  timeoutMs: number,
): Promise<Deno.CommandStatus> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), timeoutMs);
  });
  const status = await Promise.race([task.child.status, timeout]);
  clearTimeout(timer);
  if (status === null) {
    throw new Error(`${task.name} did not finish in ${timeoutMs} ms\n${tail(task)}`);
  }
  await task.drained;
  return status;
}
