/**
 * Tool calls written as text. Small local models (Qwen, Llama, Mistral behind llama.cpp, Ollama,
 * LM Studio, vLLM) often put their calls in the reply's `content` instead of `tool_calls`:
 * Hermes/Qwen `<tool_call>{"name": …, "arguments": {…}}</tool_call>`, a bare JSON object with
 * `name` and `arguments`, a fenced json block, or a list of those. This module finds them.
 *
 * A text that is not a call yields no calls. A text that looks like a call but does not parse
 * (a `<tool_call>` tag, or JSON naming an offered tool, that is not a valid call) is reported as
 * broken, so the agent can be corrected instead of the reply passing as a silent answer.
 */

/** One call found in text; `arguments` is JSON text, as in native tool calls. */
export interface TextToolCall {
  /** Tool name. */
  name: string;
  /** Arguments as JSON text. */
  arguments: string;
}

/** What {@linkcode parseTextToolCalls} found. */
export interface TextToolCallParse {
  /** The calls, in the order written. */
  calls: TextToolCall[];
  /** Why the text looks like a call that does not parse; absent when it does not look like one. */
  broken?: string;
}

const TOOL_CALL_TAG = /<tool_call>([\s\S]*?)(?:<\/tool_call>|$)/g;
const FENCED_BLOCK = /```[a-zA-Z]*\s*\n?([\s\S]*?)```/g;

/** The JSON values (objects or arrays) at the top level of a text, as source slices. */
export function findJsonValues(text: string): string[] {
  const values: string[] = [];
  let start = -1;
  let depth = 0;
  let inString = false;
  let escaped = false;
  for (let index = 0; index < text.length; index++) {
    const char = text[index]!;
    if (depth > 0 && inString) {
      if (escaped) escaped = false;
      else if (char === "\\") escaped = true;
      else if (char === '"') inString = false;
      continue;
    }
    if (depth > 0 && char === '"') {
      inString = true;
    } else if (char === "{" || char === "[") {
      if (depth === 0) start = index;
      depth++;
    } else if ((char === "}" || char === "]") && depth > 0) {
      depth--;
      if (depth === 0) values.push(text.slice(start, index + 1));
    }
  }
  if (depth > 0) values.push(text.slice(start));
  return values;
}

/** A call from one parsed JSON value, or why the value is not one. */
function callFrom(value: unknown): TextToolCall | string {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return "a call must be a JSON object";
  }
  const record = value as Record<string, unknown>;
  // OpenAI's own shape, {"type": "function", "function": {"name", "arguments"}}, also occurs.
  const inner = typeof record.function === "object" && record.function !== null
    ? record.function as Record<string, unknown>
    : record;
  const name = inner.name ?? inner.tool ?? inner.tool_name;
  if (typeof name !== "string" || name.trim() === "") return 'a call needs a string "name"';
  const args = inner.arguments ?? inner.parameters ?? inner.args ?? inner.input ?? {};
  if (typeof args === "string") {
    try {
      const parsed: unknown = JSON.parse(args);
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
        return `the arguments of ${name} must be a JSON object`;
      }
    } catch {
      return `the arguments of ${name} are not valid JSON`;
    }
    return { name: name.trim(), arguments: args };
  }
  if (typeof args !== "object" || args === null || Array.isArray(args)) {
    return `the arguments of ${name} must be a JSON object`;
  }
  return { name: name.trim(), arguments: JSON.stringify(args) };
}

/** Whether a JSON object (parsed or not) seems meant as a call to one of the tools. */
function mentionsTool(source: string, toolNames: readonly string[]): boolean {
  return toolNames.some((tool) => new RegExp(`"${tool}"`).test(source)) ||
    /"(name|arguments|parameters)"\s*:/.test(source) && /"arguments"|"parameters"/.test(source);
}

/** The candidate call texts: tag bodies, else fenced blocks, else JSON values in the text. */
function candidates(text: string): { sources: string[]; tagged: boolean } {
  const tagged = [...text.matchAll(TOOL_CALL_TAG)].map((match) => match[1]!.trim());
  if (tagged.length > 0) return { sources: tagged, tagged: true };
  const fenced = [...text.matchAll(FENCED_BLOCK)].map((match) => match[1]!.trim());
  const sources = fenced.length > 0 ? fenced.flatMap(findJsonValues) : findJsonValues(text);
  return { sources, tagged: false };
}

/**
 * Finds the tool calls written in a reply's text. `toolNames` are the offered tools: JSON that
 * names one of them but is not a valid call counts as a broken call. Calls naming other tools are
 * returned as written (the router answers them with "unknown tool", which the model reads).
 */
export function parseTextToolCalls(
  text: string | null,
  toolNames: readonly string[],
): TextToolCallParse {
  if (!text || text.trim() === "") return { calls: [] };
  const { sources, tagged } = candidates(text);
  const calls: TextToolCall[] = [];
  const problems: string[] = [];
  for (const source of sources) {
    const value = parseLenient(source);
    if (value === undefined) {
      if (tagged || mentionsTool(source, toolNames)) {
        problems.push(`not valid JSON: ${clip(source)}`);
      }
      continue;
    }
    const values = Array.isArray(value) ? value : [value];
    for (const item of values) {
      const call = callFrom(item);
      if (typeof call !== "string") calls.push(call);
      else if (tagged || mentionsTool(JSON.stringify(item), toolNames)) problems.push(call);
    }
  }
  if (calls.length > 0) return { calls };
  if (problems.length > 0) return { calls, broken: problems[0] };
  return { calls };
}

/**
 * JSON, or the same inside one extra pair of braces (`{{"name": …}}`, which Qwen2.5-Coder 1.5B
 * wrote after a correction); undefined when neither parses.
 */
function parseLenient(source: string): unknown {
  for (const text of [source, source.replace(/^\{\s*(\{[\s\S]*\})\s*\}$/, "$1")]) {
    try {
      return JSON.parse(text);
    } catch {
      // Try the next spelling.
    }
  }
  return undefined;
}

function clip(text: string): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length <= 80 ? line : `${line.slice(0, 79)}…`;
}
