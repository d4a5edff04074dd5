/**
 * Recorded model answers: {@linkcode RecordingModel} wraps any model and writes every answer to a
 * JSON-lines file, keyed by a SHA-256 hash of the whole request (canonical JSON with sorted keys,
 * plus the model id); {@linkcode ReplayedModel} answers from such a file for $0, so a tournament
 * or arena run with an LLM can be re-run exactly. A request that is not in the recording is a
 * miss; the error names the first difference against the closest recorded request of the same
 * agent, so a recording made with another prompt or data set is refused clearly.
 *
 * A replay reports the recorded token usage and model id (so cost columns match the recorded
 * run); no model is called.
 */

import { createHash } from "node:crypto";
import { z } from "zod";
import { AssistantMessage, ChatMessage, TokenUsage } from "../contracts/chat.ts";
import type { ModelProvider, ModelRequest, ModelResponse } from "../runtime/model_provider.ts";

/** Format version of a recording line. */
export const RECORDING_VERSION = 1;

/** One recorded answer: a line of a recording file. */
export const RecordedAnswer = z.object({
  v: z.literal(RECORDING_VERSION),
  /** {@linkcode requestHash} of the request and model id. */
  hash: z.string().regex(/^[0-9a-f]{64}$/, "Expected a SHA-256 hex digest"),
  /** The model id of the recorded provider. */
  model: z.string().min(1),
  /** The agent whose conversation it was. */
  agent: z.string().min(1),
  /** The request's messages (kept to explain misses). */
  messages: z.array(ChatMessage),
  /** SHA-256 of every other request field (tools, snapshot, response format, ...). */
  fields: z.record(z.string(), z.string()),
  /** The answer (fields a newer ModelResponse adds are kept). */
  response: z.looseObject({ message: AssistantMessage, usage: TokenUsage, model: z.string() }),
});
/** One recorded answer. */
export type RecordedAnswer = z.infer<typeof RecordedAnswer>;

/** JSON with object keys sorted at every level (undefined members left out, as JSON does). */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) => {
    if (inner === null || typeof inner !== "object" || Array.isArray(inner)) return inner;
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(inner).sort()) {
      sorted[key] = (inner as Record<string, unknown>)[key];
    }
    return sorted;
  });
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** SHA-256 (hex) of the canonical JSON of the whole request and the model id. */
export function requestHash(request: ModelRequest, model: string): string {
  return sha256(canonicalJson({ model, request }));
}

/** SHA-256 of each request field other than `agent` and `messages`. */
function fieldHashes(request: ModelRequest): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const [key, value] of Object.entries(request).sort(([a], [b]) => a.localeCompare(b))) {
    if (key === "agent" || key === "messages" || value === undefined) continue;
    fields[key] = sha256(canonicalJson(value));
  }
  return fields;
}

/** Appends recorded answers to a file, one JSON line each, in the order they arrive. */
export class RecordingWriter {
  readonly #file: Deno.FsFile;
  readonly #encoder = new TextEncoder();
  #pending: Promise<void> = Promise.resolve();
  #count = 0;

  private constructor(file: Deno.FsFile) {
    this.#file = file;
  }

  /** Creates (or truncates) the recording file. */
  static async create(path: string): Promise<RecordingWriter> {
    const file = await Deno.open(path, { write: true, create: true, truncate: true });
    return new RecordingWriter(file);
  }

  /** Answers written (or queued) so far. */
  get count(): number {
    return this.#count;
  }

  /** Queues one answer; resolves once it is written. */
  append(answer: RecordedAnswer): Promise<void> {
    this.#count++;
    const bytes = this.#encoder.encode(JSON.stringify(answer) + "\n");
    const write = this.#pending.then(async () => {
      let written = 0;
      while (written < bytes.length) written += await this.#file.write(bytes.subarray(written));
    });
    this.#pending = write.catch(() => {});
    return write;
  }

  /** Waits for every queued answer and closes the file. */
  async close(): Promise<void> {
    await this.#pending;
    this.#file.close();
  }
}

/** Options for {@linkcode RecordingModel}. */
export interface RecordingModelOptions {
  /** Where answers go (one writer may serve several models and runs). */
  writer: RecordingWriter;
}

/** Wraps a model and records every answer it gives (failures are not recorded). */
export class RecordingModel implements ModelProvider {
  /** The wrapped model's id. */
  readonly model: string;
  readonly #provider: ModelProvider;
  readonly #writer: RecordingWriter;

  /** Records the answers of `provider`. */
  constructor(provider: ModelProvider, options: RecordingModelOptions) {
    this.model = provider.model;
    this.#provider = provider;
    this.#writer = options.writer;
  }

  /** Asks the wrapped model, writes the answer, then returns it. */
  async complete(request: ModelRequest, signal?: AbortSignal): Promise<ModelResponse> {
    const response = await this.#provider.complete(request, signal);
    const answer = RecordedAnswer.parse({
      v: RECORDING_VERSION,
      hash: requestHash(request, this.model),
      model: this.model,
      agent: request.agent,
      messages: request.messages,
      fields: fieldHashes(request),
      response,
    });
    await this.#writer.append(answer);
    return response;
  }
}

/** Parses a recording's text; errors name the line and what was wrong. */
export function parseRecordedAnswers(text: string, source = "Recording"): RecordedAnswer[] {
  const answers: RecordedAnswer[] = [];
  for (const [index, line] of text.split("\n").entries()) {
    if (line.trim() === "") continue;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      throw new Error(`${source} line ${index + 1} is not JSON: ${line.slice(0, 80)}`);
    }
    const parsed = RecordedAnswer.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new Error(
        `${source} line ${index + 1} is not a recorded answer: ${
          issue.path.join(".") || "(line)"
        }: ${issue.message}`,
      );
    }
    answers.push(parsed.data);
  }
  return answers;
}

/** Reads a recording file written by {@linkcode RecordingWriter}. */
export async function loadRecordedAnswers(path: string): Promise<RecordedAnswer[]> {
  return parseRecordedAnswers(await Deno.readTextFile(path), `Recording ${path}`);
}

/** A request the recording does not hold. */
export class RecordingMissError extends Error {
  /** Agent of the request. */
  readonly agent: string;

  /** A miss of `agent`'s request, explained by `message`. */
  constructor(agent: string, message: string) {
    super(message);
    this.name = "RecordingMissError";
    this.agent = agent;
  }
}

/** Options for {@linkcode ReplayedModel}. */
export interface ReplayedModelOptions {
  /** The model id the recording was made with (part of every request hash). */
  model: string;
  /**
   * Answer a miss with an error the agent sees and go on; without it a miss also calls
   * `onMiss`, which should stop the run.
   */
  allowMisses?: boolean;
  /** Called on a miss unless `allowMisses` (e.g. to abort the run). */
  onMiss?: (error: RecordingMissError) => void;
}

function messageText(message: ChatMessage): string {
  if (message.role === "assistant") {
    return canonicalJson({ content: message.content, toolCalls: message.toolCalls ?? [] });
  }
  return message.content;
}

function sameMessage(a: ChatMessage, b: ChatMessage): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

/** The two texts around their first difference, shortened to one line, e.g. `'...T+0h05m...'`. */
function excerpts(recorded: string, got: string): [string, string] {
  let at = 0;
  while (at < recorded.length && at < got.length && recorded[at] === got[at]) at++;
  const cut = (text: string) => {
    const from = Math.max(0, at - 30);
    const to = Math.min(text.length, at + 50);
    const part = text.slice(from, to).replaceAll("\n", "\\n");
    return `'${from > 0 ? "..." : ""}${part}${to < text.length ? "..." : ""}'`;
  };
  return [cut(recorded), cut(got)];
}

function differences(answer: RecordedAnswer, request: ModelRequest): string[] {
  const found: string[] = [];
  const count = Math.max(answer.messages.length, request.messages.length);
  for (let index = 0; index < count; index++) {
    const recorded = answer.messages[index];
    const got = request.messages[index];
    const label = `message ${index + 1}`;
    if (!recorded) {
      found.push(`${label} (${got!.role}) is not in the recording`);
    } else if (!got) {
      found.push(`${label} (${recorded.role}) is recorded but missing`);
    } else if (!sameMessage(recorded, got)) {
      if (recorded.role !== got.role) {
        found.push(`${label} differs: recorded a ${recorded.role} message, got a ${got.role} one`);
      } else {
        const [before, after] = excerpts(messageText(recorded), messageText(got));
        found.push(`${label} (${got.role}) differs: recorded ${before}, got ${after}`);
      }
    }
  }
  const fields = fieldHashes(request);
  const keys = [...new Set([...Object.keys(answer.fields), ...Object.keys(fields)])].sort();
  for (const key of keys) {
    if (answer.fields[key] === fields[key]) continue;
    if (answer.fields[key] === undefined) found.push(`${key} is not in the recorded request`);
    else if (fields[key] === undefined) found.push(`${key} is recorded but missing`);
    else found.push(`${key} differs from the recorded request`);
  }
  return found;
}

/** Answers from a recording; a request that is not in it is a miss. */
export class ReplayedModel implements ModelProvider {
  /** The recorded model's id. */
  readonly model: string;
  readonly #options: ReplayedModelOptions;
  readonly #byHash = new Map<string, RecordedAnswer[]>();
  readonly #served = new Map<string, number>();
  readonly #byAgent = new Map<string, RecordedAnswer[]>();
  #misses = 0;

  /** Serves the answers of `answers` recorded with `options.model` (other models' are ignored). */
  constructor(answers: readonly RecordedAnswer[], options: ReplayedModelOptions) {
    this.model = options.model;
    this.#options = options;
    for (const answer of answers) {
      if (answer.model !== options.model) continue;
      this.#byHash.set(answer.hash, [...(this.#byHash.get(answer.hash) ?? []), answer]);
      this.#byAgent.set(answer.agent, [...(this.#byAgent.get(answer.agent) ?? []), answer]);
    }
  }

  /** Requests that were not in the recording so far. */
  get misses(): number {
    return this.#misses;
  }

  /**
   * The recorded answer of this request (the n-th recorded one on its n-th occurrence, the last
   * one after that); throws a {@linkcode RecordingMissError} for a request not recorded.
   */
  complete(request: ModelRequest): Promise<ModelResponse> {
    const hash = requestHash(request, this.model);
    const recorded = this.#byHash.get(hash);
    if (!recorded) return Promise.reject(this.#miss(request));
    const served = this.#served.get(hash) ?? 0;
    this.#served.set(hash, served + 1);
    const answer = recorded[Math.min(served, recorded.length - 1)]!;
    return Promise.resolve(structuredClone(answer.response));
  }

  #miss(request: ModelRequest): RecordingMissError {
    this.#misses++;
    const error = new RecordingMissError(request.agent, this.#explain(request));
    if (!this.#options.allowMisses) this.#options.onMiss?.(error);
    return error;
  }

  #explain(request: ModelRequest): string {
    const head = `No recorded answer for agent ${request.agent} (model ${this.model})`;
    const candidates = this.#byAgent.get(request.agent) ?? [];
    if (candidates.length === 0) {
      const agents = [...this.#byAgent.keys()].sort();
      return `${head}: the recording has no request of this agent; agents recorded for ` +
        `${this.model}: ${agents.length > 0 ? agents.join(", ") : "none"}`;
    }
    let best: string[] | undefined;
    for (const candidate of candidates) {
      const found = differences(candidate, request);
      if (best === undefined || found.length < best.length) best = found;
    }
    const first = best![0] ?? "the request differs from every recorded one";
    return `${head}: ${first} (closest recorded request, ${best!.length} difference${
      best!.length === 1 ? "" : "s"
    }); the recording was made with another prompt, data set or settings`;
  }
}

/** Options for {@linkcode ModelRecording.open}: a file to record to, or one to replay from. */
export interface ModelRecordingOptions {
  /** Write every model answer to this file (`--record-model`). */
  record?: string;
  /** Answer from this recording instead of calling models (`--replay-model`). */
  replay?: string;
  /** With `replay`: answer unrecorded requests with an error the agent sees. */
  allowMisses?: boolean;
  /** Called once at the first miss (e.g. to stop the run). */
  onMiss?: (error: RecordingMissError) => void;
}

/** The `--record-model` / `--replay-model` settings of a run, shared by the arena and tournaments. */
export class ModelRecording {
  readonly #answers?: RecordedAnswer[];
  readonly #writer?: RecordingWriter;
  readonly #options: ModelRecordingOptions;
  #miss?: RecordingMissError;

  private constructor(
    options: ModelRecordingOptions,
    answers?: RecordedAnswer[],
    writer?: RecordingWriter,
  ) {
    this.#options = options;
    this.#answers = answers;
    this.#writer = writer;
  }

  /** Checks the flags and opens the files; throws a one-line error naming the problem. */
  static async open(options: ModelRecordingOptions): Promise<ModelRecording> {
    if (options.record && options.replay) {
      throw new Error("--record-model and --replay-model exclude each other; give one");
    }
    if (options.allowMisses && !options.replay) {
      throw new Error("--allow-misses applies to --replay-model");
    }
    const answers = options.replay ? await loadRecordedAnswers(options.replay) : undefined;
    const writer = options.record ? await RecordingWriter.create(options.record) : undefined;
    return new ModelRecording(options, answers, writer);
  }

  /** True when models are answered from a recording (no model is called, no key is needed). */
  get replaying(): boolean {
    return this.#answers !== undefined;
  }

  /** True when model answers are written to a file or read from one. */
  get active(): boolean {
    return this.#answers !== undefined || this.#writer !== undefined;
  }

  /** The first request that was not in the recording, if any. */
  get miss(): RecordingMissError | undefined {
    return this.#miss;
  }

  /** A line saying what was recorded or replayed, for the end of a run. */
  summary(): string | undefined {
    if (this.#writer) {
      return `Recorded ${this.#writer.count} model answers to ${this.#options.record}`;
    }
    if (this.#answers) return `Model answers replayed from ${this.#options.replay} ($0)`;
    return undefined;
  }

  /** The model to use for a label: the recording's answers, or `live()` (recorded when asked). */
  provider(model: string, live: () => ModelProvider): ModelProvider {
    if (this.#answers) {
      return new ReplayedModel(this.#answers, {
        model,
        allowMisses: this.#options.allowMisses === true,
        onMiss: (error) => {
          if (this.#miss) return;
          this.#miss = error;
          this.#options.onMiss?.(error);
        },
      });
    }
    const provider = live();
    return this.#writer ? new RecordingModel(provider, { writer: this.#writer }) : provider;
  }

  /** Flushes and closes the recording file. */
  async close(): Promise<void> {
    await this.#writer?.close();
  }
}
