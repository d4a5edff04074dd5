/**
 * How a Kafka client encrypts and authenticates: the usual Kafka security settings, read from
 * flags and the environment ({@linkcode parseKafkaSecurity}), mapped to kafkajs
 * ({@linkcode kafkajsSecurity}), and the client's failures turned into one clear line
 * ({@linkcode describeKafkaFailure}).
 *
 * @example
 * ```ts ignore
 * const security = parseKafkaSecurity({ protocol: "SASL_SSL", mechanism: "scram-sha-256" }, Deno.env);
 * const kafka = new Kafka({ clientId, brokers, ...kafkajsSecurity(security) });
 * ```
 */

import type { KafkaConfig, SASLOptions } from "kafkajs";
import { z } from "zod";

/** Kafka's `security.protocol` values. */
export type SecurityProtocol = "PLAINTEXT" | "SSL" | "SASL_PLAINTEXT" | "SASL_SSL";

/** SASL mechanisms the arena supports (Kafka's `sasl.mechanism`, lower case). */
export type SaslMechanism = "plain" | "scram-sha-256" | "scram-sha-512";

/** SASL credentials; the password never appears in a log, topic or error. */
export interface SaslCredentials {
  /** Mechanism the broker's listener accepts. */
  mechanism: SaslMechanism;
  /** User name. */
  username: string;
  /** Password (from the environment, never a flag). */
  password: string;
}

/** Security settings of one Kafka connection. */
export interface KafkaSecurity {
  /** Transport and authentication, as Kafka's `security.protocol`. */
  protocol: SecurityProtocol;
  /** Credentials; required for the SASL protocols. */
  sasl?: SaslCredentials;
  /** PEM text of a private CA; the system roots are used when absent. */
  caPem?: string;
  /** The file `caPem` was read from, for messages. */
  caFile?: string;
}

/** Whether a protocol runs over TLS. */
export function usesTls(protocol: SecurityProtocol): boolean {
  return protocol === "SSL" || protocol === "SASL_SSL";
}

/** Whether a protocol authenticates with SASL. */
export function usesSasl(protocol: SecurityProtocol): boolean {
  return protocol === "SASL_PLAINTEXT" || protocol === "SASL_SSL";
}

/** The kafkajs client settings (`ssl`, `sasl`) for security settings. */
export function kafkajsSecurity(
  security: KafkaSecurity | undefined,
): Pick<KafkaConfig, "ssl" | "sasl"> {
  if (!security || security.protocol === "PLAINTEXT") return {};
  const config: Pick<KafkaConfig, "ssl" | "sasl"> = {};
  if (usesTls(security.protocol)) {
    config.ssl = security.caPem ? { ca: [security.caPem] } : true;
  }
  const sasl = saslCredentialsOf(security);
  if (sasl) {
    const { mechanism, username, password } = sasl;
    config.sasl = { mechanism, username, password } as SASLOptions;
  }
  return config;
}

/** The SASL credentials a protocol needs (undefined for the others); throws when they are missing. */
export function saslCredentialsOf(security: KafkaSecurity): SaslCredentials | undefined {
  if (!usesSasl(security.protocol)) return undefined;
  if (!security.sasl) {
    throw new Error(
      `Security protocol ${security.protocol} needs SASL credentials: set ` +
        "KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD",
    );
  }
  return security.sasl;
}

/** Every `security.protocol` value, in Kafka's order. */
export const SECURITY_PROTOCOLS: readonly SecurityProtocol[] = [
  "PLAINTEXT",
  "SSL",
  "SASL_PLAINTEXT",
  "SASL_SSL",
];

/** Every supported SASL mechanism. */
export const SASL_MECHANISMS: readonly SaslMechanism[] = [
  "plain",
  "scram-sha-256",
  "scram-sha-512",
];

/** Environment variables read by {@linkcode parseKafkaSecurity} (Kafka's usual names). */
export const KAFKA_SECURITY_ENV = [
  "KAFKA_SECURITY_PROTOCOL",
  "KAFKA_SASL_MECHANISM",
  "KAFKA_SASL_USERNAME",
  "KAFKA_SASL_PASSWORD",
  "KAFKA_SSL_CA_LOCATION",
] as const;

/** Flag values of {@linkcode parseKafkaSecurity}; each falls back to its environment variable. */
export interface KafkaSecurityFlags {
  /** `--security-protocol` (else `KAFKA_SECURITY_PROTOCOL`, else PLAINTEXT). */
  protocol?: string;
  /** `--sasl-mechanism` (else `KAFKA_SASL_MECHANISM`). */
  mechanism?: string;
  /** `--ssl-ca FILE` (else `KAFKA_SSL_CA_LOCATION`): PEM file of a private CA. */
  caFile?: string;
}

/** Where {@linkcode parseKafkaSecurity} reads variables: `Deno.env`, or a `Map` in tests. */
export interface EnvReader {
  /** The variable's value, or undefined when unset. */
  get(name: string): string | undefined;
}

const protocolSchema = z.string().trim().toUpperCase().pipe(
  z.enum(["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"], {
    error: (issue) =>
      `Security protocol must be one of ${SECURITY_PROTOCOLS.join(", ")}, got ${
        JSON.stringify(issue.input)
      }`,
  }),
);

const mechanismSchema = z.string().trim().toLowerCase().pipe(
  z.enum(["plain", "scram-sha-256", "scram-sha-512"], {
    error: (issue) =>
      `SASL mechanism must be one of ${SASL_MECHANISMS.join(", ")}, got ${
        JSON.stringify(issue.input)
      }`,
  }),
);

/**
 * Reads the security settings: flag values first, then the environment
 * (`KAFKA_SECURITY_PROTOCOL`, `KAFKA_SASL_MECHANISM`, `KAFKA_SSL_CA_LOCATION`); credentials come
 * only from `KAFKA_SASL_USERNAME` and `KAFKA_SASL_PASSWORD`. Reads the CA file. Throws one clear
 * line when a value is invalid or missing; the password never appears in it.
 */
export function parseKafkaSecurity(flags: KafkaSecurityFlags, env: EnvReader): KafkaSecurity {
  const read = (name: (typeof KAFKA_SECURITY_ENV)[number]): string | undefined => {
    const value = env.get(name)?.trim();
    return value ? value : undefined;
  };
  const protocolText = nonEmpty(flags.protocol) ?? read("KAFKA_SECURITY_PROTOCOL") ?? "PLAINTEXT";
  const protocol = parseWith(protocolSchema, protocolText);
  const mechanismText = nonEmpty(flags.mechanism) ?? read("KAFKA_SASL_MECHANISM");
  const caFile = nonEmpty(flags.caFile) ?? read("KAFKA_SSL_CA_LOCATION");
  const security: KafkaSecurity = { protocol };

  if (usesSasl(protocol)) {
    if (mechanismText === undefined) {
      throw new Error(
        `Security protocol ${protocol} needs a SASL mechanism: pass --sasl-mechanism ` +
          `${SASL_MECHANISMS.join("|")} or set KAFKA_SASL_MECHANISM`,
      );
    }
    const mechanism = parseWith(mechanismSchema, mechanismText);
    const username = env.get("KAFKA_SASL_USERNAME")?.trim();
    const password = env.get("KAFKA_SASL_PASSWORD");
    const missing = [
      username ? undefined : "KAFKA_SASL_USERNAME",
      password ? undefined : "KAFKA_SASL_PASSWORD",
    ].filter((name) => name !== undefined);
    if (missing.length > 0) {
      throw new Error(
        `Security protocol ${protocol} needs SASL credentials: set ${missing.join(" and ")} ` +
          "in the environment (never a flag)",
      );
    }
    security.sasl = { mechanism, username: username!, password: password! };
  } else if (mechanismText !== undefined) {
    throw new Error(
      `A SASL mechanism needs security protocol SASL_PLAINTEXT or SASL_SSL, got ${protocol}: ` +
        "pass --security-protocol or set KAFKA_SECURITY_PROTOCOL",
    );
  }

  if (caFile !== undefined) {
    if (!usesTls(protocol)) {
      throw new Error(
        `A CA file needs security protocol SSL or SASL_SSL, got ${protocol}: ` +
          "pass --security-protocol or set KAFKA_SECURITY_PROTOCOL",
      );
    }
    security.caPem = readCaFile(caFile);
    security.caFile = caFile;
  }
  return security;
}

/** One line for logs: protocol, mechanism, user and CA file, never the password. */
export function summarizeKafkaSecurity(security: KafkaSecurity | undefined): string {
  if (!security) return "PLAINTEXT";
  const parts: string[] = [security.protocol];
  if (security.sasl) parts.push(`${security.sasl.mechanism} as ${security.sasl.username}`);
  if (usesTls(security.protocol)) {
    parts.push(security.caFile ? `CA ${security.caFile}` : "system CA roots");
  }
  return parts.join(", ");
}

/**
 * Turns a Kafka client's connection error into one clear line naming the cause, for the
 * failures a security setting causes: a wrong user or password, a broker certificate from an
 * unknown CA (or for another host name), a plaintext client on a TLS port (and the reverse),
 * and a SASL mechanism the broker does not accept. Returns undefined for any other error (no
 * broker at all, a broker that is starting), which the caller may retry. Works on kafkajs and
 * @platformatic/kafka errors (it reads messages and codes along the `cause` chain). The line
 * never contains the password.
 */
export function describeKafkaFailure(
  error: unknown,
  security: KafkaSecurity | undefined,
): string | undefined {
  const protocol = security?.protocol ?? "PLAINTEXT";
  const chain = errorChain(error);
  const text = chain.map((entry) => `${entry.code ?? ""} ${entry.message}`).join("\n");
  const broker = chain.map((entry) => entry.broker).find((value) => value !== undefined);
  const at = broker ? ` at ${broker}` : "";
  const line = ((): string | undefined => {
    if (SASL_MECHANISM_REJECTED.test(text)) {
      return `The Kafka broker${at} does not accept SASL mechanism ` +
        `${security?.sasl?.mechanism ?? "(none)"}: pass another --sasl-mechanism ` +
        `(${SASL_MECHANISMS.join("|")}) or set KAFKA_SASL_MECHANISM`;
    }
    if (SASL_FAILED.test(text)) {
      const who = security?.sasl
        ? ` for user "${security.sasl.username}" (${security.sasl.mechanism})`
        : "";
      return `SASL authentication failed${who}${at}: wrong user name or password; check ` +
        "KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD";
    }
    if (HOST_MISMATCH.test(text)) {
      return `TLS certificate of the Kafka broker${at} is not valid for that host name: ` +
        "connect with a name the certificate lists";
    }
    if (CERT_EXPIRED.test(text)) {
      return `TLS certificate of the Kafka broker${at} has expired or is not valid yet`;
    }
    if (UNKNOWN_CA.test(text)) {
      const trusted = security?.caFile ? `the CA in ${security.caFile}` : "the system's CA roots";
      return `TLS certificate of the Kafka broker${at} is not signed by ${trusted} ` +
        "(certificate verify failed): pass the CA that signed it with --ssl-ca FILE or " +
        "KAFKA_SSL_CA_LOCATION";
    }
    if (usesTls(protocol)) {
      if (PLAINTEXT_PORT.test(text)) {
        return `The Kafka broker${at} did not complete a TLS handshake (${protocol}): the ` +
          "port probably expects plaintext; check --security-protocol and the port";
      }
      return undefined;
    }
    if (TLS_PORT.test(text)) {
      return `The Kafka broker${at} closed the connection of a ${protocol} client: the ` +
        "port probably expects TLS; pass --security-protocol SSL or SASL_SSL " +
        "(or set KAFKA_SECURITY_PROTOCOL)";
    }
    return undefined;
  })();
  if (line === undefined) return undefined;
  const password = security?.sasl?.password;
  return password ? line.replaceAll(password, "[redacted]") : line;
}

/** Broker refused the mechanism (Kafka error UNSUPPORTED_SASL_MECHANISM, or no common one). */
const SASL_MECHANISM_REJECTED =
  /UNSUPPORTED_SASL_MECHANISM|does not support the requested SASL mechanism|Cannot find a suitable SASL mechanism|SASL mechanism .* not enabled/i;
/** Wrong user or password (kafkajs, @platformatic/kafka and the broker's own text). */
const SASL_FAILED =
  /SASL_AUTHENTICATION_FAILED|SASL \S+(?: \S+)? authentication failed|SASL authentication failed|PLT_KFK_AUTHENTICATION|invalid credentials|Authentication failed/i;
/** The certificate names another host. */
const HOST_MISMATCH =
  /ERR_TLS_CERT_ALTNAME_INVALID|Hostname\/IP does not match|NotValidForName|certificate is not valid for/i;
/** The certificate is out of its validity period. */
const CERT_EXPIRED = /CERT_HAS_EXPIRED|CERT_NOT_YET_VALID|certificate has expired|Expired\b/i;
/** The certificate chain does not end in a trusted CA. */
const UNKNOWN_CA =
  /SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_GET_ISSUER_CERT|UNABLE_TO_VERIFY_LEAF_SIGNATURE|CERT_UNTRUSTED|self[- ]signed certificate|unable to get (?:local )?issuer certificate|unable to verify the first certificate|certificate verify failed|UnknownIssuer|invalid peer certificate/i;
/**
 * What a TLS client sees on a plaintext port: the broker hangs up during the handshake. Timeouts
 * are left out on purpose: an unreachable host times out too.
 */
const PLAINTEXT_PORT =
  /wrong version number|packet length too long|secure TLS connection was established|CorruptMessage|InvalidContentType|Closed connection|Connection closed|ECONNRESET|socket hang up/i;
/** What a plaintext client sees on a TLS port: the broker hangs up at the first request. */
const TLS_PORT =
  /Broker requires TLS|Closed connection|Connection closed|ECONNRESET|socket hang up/i;

interface ErrorEntry {
  message: string;
  code?: string;
  broker?: string;
}

/** The error, its causes and the errors it aggregates, flattened (bounded depth). */
function errorChain(error: unknown): ErrorEntry[] {
  const entries: ErrorEntry[] = [];
  const seen = new Set<unknown>();
  const visit = (value: unknown, depth: number): void => {
    if (depth > 6 || value === null || value === undefined || seen.has(value)) return;
    seen.add(value);
    if (typeof value !== "object") {
      entries.push({ message: String(value) });
      return;
    }
    const record = value as Record<string, unknown>;
    entries.push({
      message: typeof record.message === "string" ? record.message : "",
      code: typeof record.code === "string" ? record.code : stringOf(record.type),
      broker: stringOf(record.broker),
    });
    visit(record.cause, depth + 1);
    visit(record.originalError, depth + 1);
    if (Array.isArray(record.errors)) {
      for (const inner of record.errors.slice(0, 10)) visit(inner, depth + 1);
    }
  };
  visit(error, 0);
  return entries;
}

function stringOf(value: unknown): string | undefined {
  return typeof value === "string" && value.length > 0 ? value : undefined;
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

function parseWith<T>(schema: z.ZodType<T>, value: string): T {
  const result = schema.safeParse(value);
  if (!result.success) throw new Error(result.error.issues[0]?.message ?? "Invalid value");
  return result.data;
}

function readCaFile(path: string): string {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (error) {
    const reason = error instanceof Deno.errors.NotFound
      ? "no such file"
      : error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied
      ? "reading it is not permitted (the deno tasks may read CA files only under certs/)"
      : error instanceof Error
      ? error.message
      : String(error);
    throw new Error(
      `CA file ${path} (--ssl-ca or KAFKA_SSL_CA_LOCATION) cannot be read: ${reason}`,
    );
  }
  if (!text.includes("-----BEGIN CERTIFICATE-----")) {
    throw new Error(
      `CA file ${path} (--ssl-ca or KAFKA_SSL_CA_LOCATION) must hold PEM certificates ` +
        '("-----BEGIN CERTIFICATE-----"), found none',
    );
  }
  return text;
}
