/** Recordings of what the live connector received: JSON lines with receive times. */

import { z } from "zod";

/** One recorded line: a WebSocket frame, a REST candles body, or a snapshot publish moment. */
export const RecordedEvent = z.discriminatedUnion("type", [
  z.object({ type: z.literal("ws"), at: z.number().int(), data: z.string() }),
  z.object({
    type: z.literal("rest"),
    at: z.number().int(),
    productId: z.string(),
    granularity: z.number().int().positive(),
    data: z.string(),
  }),
  z.object({ type: z.literal("publish"), at: z.number().int() }),
  z.object({
    type: z.literal("start"),
    at: z.number().int(),
    productIds: z.array(z.string()).min(1),
    intervalMs: z.number().int().positive(),
  }),
]);
/** One recorded line. */
export type RecordedEvent = z.infer<typeof RecordedEvent>;

/** A parsed recording. */
export interface Recording {
  /** Products and interval of the recorded session. */
  productIds: string[];
  /** Publish interval of the recorded session in ms. */
  intervalMs: number;
  /** Events in file order (receive-time order). */
  events: RecordedEvent[];
}

/** Appends recorded events to a file as JSON lines. */
export class Recorder {
  readonly #file: Deno.FsFile;
  readonly #encoder = new TextEncoder();

  private constructor(file: Deno.FsFile) {
    this.#file = file;
  }

  /** Creates (or truncates) the recording file. */
  static async create(path: string): Promise<Recorder> {
    const file = await Deno.open(path, { write: true, create: true, truncate: true });
    return new Recorder(file);
  }

  /** Writes one event as a line. */
  write(event: RecordedEvent): void {
    this.#file.writeSync(this.#encoder.encode(JSON.stringify(event) + "\n"));
  }

  /** Closes the file. */
  close(): void {
    this.#file.close();
  }
}

/** True when a replay file's text looks like a recording (JSON lines) rather than a CSV. */
export function isRecordingText(text: string): boolean {
  return text.trimStart().startsWith("{");
}

/** Parses a recording; errors name the line and what was wrong. */
export function parseRecording(text: string): Recording {
  const events: RecordedEvent[] = [];
  let start: Extract<RecordedEvent, { type: "start" }> | undefined;
  text.split("\n").forEach((line, index) => {
    if (line.trim() === "") return;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      throw new Error(`Recording line ${index + 1}: not JSON: ${line.slice(0, 80)}`);
    }
    const parsed = RecordedEvent.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new Error(
        `Recording line ${index + 1}: ${issue?.path.join(".") || "(root)"}: ${issue?.message}`,
      );
    }
    if (parsed.data.type === "start") start ??= parsed.data;
    events.push(parsed.data);
  });
  if (!start) throw new Error("Recording has no start line (type start with productIds)");
  return { productIds: start.productIds, intervalMs: start.intervalMs, events };
}
