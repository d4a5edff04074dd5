/** A real `deno task tools` process for the kill -9 tests: start it, read its log, kill it. */

import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url).pathname;

/** A running tools process and what it logged so far. */
export interface ToolsProcess {
  /** The child process. */
  child: Deno.ChildProcess;
  /** The last 200 000 characters of its standard error (JSON log lines). */
  log: () => string;
  /** Resolves once its standard error is closed. */
  drained: Promise<void>;
}

/** The `deno task tools` command line from deno.json, so the test runs its exact permissions. */
function toolsTaskArgs(): string[] {
  const config = JSON.parse(Deno.readTextFileSync(`${ROOT}deno.json`)) as {
    tasks: Record<string, string>;
  };
  const words = config.tasks.tools!.trim().split(/\s+/);
  assert.equal(words[0], "deno");
  return words.slice(1);
}

/** Starts `services/tools.ts` on a broker with a topic prefix and a tools consumer group. */
export function startToolsProcess(
  options: { bootstrap: string; prefix: string; group: string },
): ToolsProcess {
  const command = new Deno.Command(Deno.execPath(), {
    args: [
      ...toolsTaskArgs(),
      "--bootstrap-servers",
      options.bootstrap,
      "--topic-prefix",
      options.prefix,
      "--group-id",
      options.group,
      "--session-timeout-ms",
      "6000",
      "--log-level",
      "info",
    ],
    cwd: ROOT,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  });
  const child = command.spawn();
  let text = "";
  const drained = child.stderr.pipeThrough(new TextDecoderStream()).pipeTo(
    new WritableStream({
      write(chunk) {
        text = (text + chunk).slice(-200_000);
      },
    }),
  ).catch(() => {});
  return { child, log: () => text, drained };
}

/** How many log lines carry this message. */
export function logCount(text: string, message: string): number {
  return text.split("\n").filter((line) => line.includes(`"message":"${message}"`)).length;
}

/** Kills the process with SIGKILL (kill -9) and waits until it is gone. */
export async function killToolsProcess(replica: ToolsProcess): Promise<Deno.CommandStatus> {
  replica.child.kill("SIGKILL");
  const status = await replica.child.status;
  await replica.drained;
  return status;
}
