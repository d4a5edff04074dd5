/**
 * Long-running deno processes for tests (`deno task` as a user would start it, or `deno run`):
 * each in its own process group, stopped as a group.
 */

const ROOT = new URL("../", import.meta.url).pathname;

/** Options for {@linkcode startDeno} and {@linkcode startTask}. */
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

/** A deno process running in its own process group, with its output collected line by line. */
export class TaskProcess {
  /** Name used in failure messages. */
  readonly name: string;
  /** Lines of standard output and standard error, as they came. */
  readonly lines: string[] = [];
  /** Lines of standard output alone (e.g. a JSON export). */
  readonly stdout: string[] = [];
  /** The `setsid` process that leads the group. */
  readonly #child: Deno.ChildProcess;
  /** Resolves once both streams have ended. */
  readonly #drained: Promise<void>;
  /** Exit status once the process has exited. */
  #exited: Deno.CommandStatus | null = null;

  /** Collects the output of `child`, the leader of a new process group, under `name`. */
  constructor(name: string, child: Deno.ChildProcess) {
    this.name = name;
    this.#child = child;
    const [out, copy] = child.stdout.tee();
    this.#drained = Promise.all([
      collect(out, this.lines),
      collect(copy, this.stdout),
      collect(child.stderr, this.lines),
    ]).then(() => {});
    child.status.then((status) => (this.#exited = status));
  }

  /** Process id of the group's leader: `deno` itself, which `setsid` runs in its own place. */
  get pid(): number {
    return this.#child.pid;
  }

  /** SIGTERM to the process group, SIGKILL after `graceMs`; resolves once it is gone. */
  async stop(graceMs = 10_000): Promise<Deno.CommandStatus> {
    if (!this.#exited) this.#signalGroup("SIGTERM");
    const timer = setTimeout(() => this.#signalGroup("SIGKILL"), graceMs);
    const status = await this.#child.status;
    clearTimeout(timer);
    // Whatever is left of the group (the service under `deno task`) goes too.
    this.#signalGroup("SIGKILL");
    await this.#drained;
    return status;
  }

  /** SIGKILL to the process group at once (no clean shutdown); resolves once it is gone. */
  async kill(): Promise<Deno.CommandStatus> {
    if (!this.#exited) this.#signalGroup("SIGKILL");
    const status = await this.#child.status;
    await this.#drained;
    return status;
  }

  /** The last `count` lines of the output, under the task's name, for failure messages. */
  tail(count = 40): string {
    return `--- ${this.name} (last ${count} lines) ---\n${this.lines.slice(-count).join("\n")}`;
  }

  /** Waits for a line matching `pattern`; fails if the task exits first or time runs out. */
  async waitForLine(pattern: RegExp, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.lines.some((line) => pattern.test(line))) {
      if (this.#exited) {
        throw new Error(`${this.name} exited with ${this.#exited.code}\n${this.tail()}`);
      }
      if (Date.now() > deadline) {
        throw new Error(
          `${this.name}: no line matching ${pattern} in ${timeoutMs} ms\n${this.tail()}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Waits for the task to exit on its own and its output to end; fails after `timeoutMs`. */
  async waitForExit(timeoutMs: number): Promise<Deno.CommandStatus> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), timeoutMs);
    });
    const status = await Promise.race([this.#child.status, timeout]);
    clearTimeout(timer);
    if (status === null) {
      throw new Error(`${this.name} did not finish in ${timeoutMs} ms\n${this.tail()}`);
    }
    await this.#drained;
    return status;
  }

  #signalGroup(signal: Deno.Signal): void {
    try {
      Deno.kill(-this.#child.pid, signal);
    } catch {
      // The group has already exited.
    }
  }
}

/** Starts `deno <args>` in a new session, so its whole process tree can be signalled. */
export function startDeno(
  name: string,
  args: string[],
  options: StartTaskOptions = {},
): TaskProcess {
  const child = new Deno.Command("setsid", {
    args: [Deno.execPath(), ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1", ...options.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  return new TaskProcess(name, child);
}

/** Starts `deno task <args>` in a new session, so its whole process tree can be signalled. */
export function startTask(
  name: string,
  args: string[],
  options: StartTaskOptions = {},
): TaskProcess {
  return startDeno(name, ["task", ...args], options);
}
