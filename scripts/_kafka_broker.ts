/**
 * A single-node Apache Kafka broker (KRaft) from Maven Central jars, bound to 127.0.0.1.
 * Used by `deno task broker`, `deno task test` and `deno task bench`.
 */

import { Kafka, logLevel } from "kafkajs";
import { silenceNegativeTimeoutWarning } from "../core/bus/kafka/mod.ts";

/** The Kafka version the jars are fetched for (keep in step with scripts/broker/pom.xml). */
export const KAFKA_VERSION = "4.1.1";

const REPO_ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const POM = `${REPO_ROOT}/scripts/broker/pom.xml`;

/** The repository's cache folder (gitignored). */
export const CACHE_DIR = `${REPO_ROOT}/.cache`;

/** Options for {@linkcode startBroker}. */
export interface StartBrokerOptions {
  /** Client port on 127.0.0.1; 0 picks a free one (default 9092). */
  port?: number;
  /** Where the broker keeps its data; formatted on first use (default .cache/kafka-data). */
  dataDir?: string;
  /** Use a fresh temporary data folder, deleted when the broker stops. */
  ephemeral?: boolean;
  /** Progress lines (default standard error). */
  progress?: (line: string) => void;
  /** How long to wait for the broker to answer (default 90 s). */
  startTimeoutMs?: number;
  /**
   * Adds a SASL_SSL listener on another free port (the PLAINTEXT one stays, for the broker
   * itself and for readiness): a self-signed CA and a broker certificate for 127.0.0.1 and
   * localhost are made with openssl, the keystore with keytool, and the users are created with
   * Kafka's own storage tool. Needs a fresh data folder (e.g. `ephemeral`).
   */
  saslSsl?: SaslSslListenerOptions;
}

/** A SASL user of the SASL_SSL listener: SCRAM-SHA-256, SCRAM-SHA-512 and PLAIN. */
export interface SaslUser {
  /** User name. */
  username: string;
  /** Password. */
  password: string;
}

/** Options of the SASL_SSL listener of {@linkcode startBroker}. */
export interface SaslSslListenerOptions {
  /** Users created for every mechanism (SCRAM-SHA-256, SCRAM-SHA-512, PLAIN). */
  users: SaslUser[];
}

/** The SASL_SSL listener of a running broker. */
export interface SaslSslListener {
  /** Bootstrap address of the SASL_SSL listener, `127.0.0.1:<port>`. */
  bootstrap: string;
  /** PEM file of the self-signed CA that signed the broker's certificate. */
  caFile: string;
}

/** A broker started by {@linkcode startBroker}. */
export interface RunningBroker {
  /** Bootstrap address, `127.0.0.1:<port>`. */
  bootstrap: string;
  /** Data folder in use. */
  dataDir: string;
  /** The SASL_SSL listener, when started with `saslSsl`. */
  saslSsl?: SaslSslListener;
  /** Broker output (warnings and errors) is appended here. */
  logFile: string;
  /** Resolves when the broker process exits, with its exit code. */
  exited: Promise<number>;
  /** Stops the broker (SIGTERM, then SIGKILL after 30 s) and deletes an ephemeral data folder. */
  stop(): Promise<void>;
}

/** Thrown when a tool the broker needs is missing; the message names it and how to install it. */
export class MissingToolError extends Error {
  /** Creates the error for one tool. */
  constructor(tool: string, hint: string) {
    super(`${tool} is required to run a local Kafka broker but was not found on PATH: ${hint}`);
    this.name = "MissingToolError";
  }
}

/** Checks that a command runs; throws {@linkcode MissingToolError} naming it otherwise. */
export async function requireTool(tool: string, args: string[], hint: string): Promise<void> {
  try {
    const output = await new Deno.Command(tool, { args, stdout: "null", stderr: "null" }).output();
    if (!output.success) throw new MissingToolError(tool, hint);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof MissingToolError) {
      throw new MissingToolError(tool, hint);
    }
    throw error;
  }
}

/** Fetches the broker's jars once into .cache/kafka-<version>/libs; returns that folder. */
export async function fetchKafkaJars(
  options: { progress?: (line: string) => void } = {},
): Promise<string> {
  const progress = options.progress ?? ((line: string) => console.error(line));
  const home = `${CACHE_DIR}/kafka-${KAFKA_VERSION}`;
  const libs = `${home}/libs`;
  if (await exists(`${home}/.complete`)) return libs;
  await requireTool(
    "java",
    ["-version"],
    "install a Java 17+ runtime (e.g. openjdk-17-jre-headless)",
  );
  await requireTool("mvn", ["-v"], "install Apache Maven (e.g. the maven package)");
  progress(`Fetching Apache Kafka ${KAFKA_VERSION} jars with Maven into ${libs} (once)`);
  await Deno.mkdir(home, { recursive: true });
  const staging = `${home}/libs.partial-${Deno.pid}`;
  await Deno.remove(staging, { recursive: true }).catch(() => {});
  const output = await new Deno.Command("mvn", {
    args: [
      "-q",
      "-B",
      "-f",
      POM,
      "dependency:copy-dependencies",
      `-DoutputDirectory=${staging}`,
      "-DincludeScope=runtime",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!output.success) {
    const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
    throw new Error(`Maven could not fetch the Kafka jars (exit ${output.code}):\n${text.trim()}`);
  }
  await Deno.remove(libs, { recursive: true }).catch(() => {});
  await Deno.rename(staging, libs);
  await Deno.writeTextFile(`${home}/.complete`, `${new Date().toISOString()}\n`);
  return libs;
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** True when a Kafka-protocol broker at `bootstrap` answers a metadata request in time. */
export async function brokerAnswers(bootstrap: string, timeoutMs = 5_000): Promise<boolean> {
  const brokers = bootstrap.split(",").map((broker) => broker.trim()).filter(Boolean);
  if (brokers.length === 0) return false;
  silenceNegativeTimeoutWarning();
  const admin = new Kafka({
    clientId: "arena-probe",
    brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: Math.min(timeoutMs, 3_000),
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
  }).admin();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("timeout")), timeoutMs);
    });
    await Promise.race([
      (async () => {
        await admin.connect();
        await admin.listTopics();
      })(),
      timeout,
    ]);
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
    await admin.disconnect().catch(() => {});
  }
}

/** Starts a single-node KRaft broker on 127.0.0.1 and resolves once it answers metadata. */
export async function startBroker(options: StartBrokerOptions = {}): Promise<RunningBroker> {
  const progress = options.progress ?? ((line: string) => console.error(line));
  await requireTool(
    "java",
    ["-version"],
    "install a Java 17+ runtime (e.g. openjdk-17-jre-headless)",
  );
  const libs = await fetchKafkaJars({ progress });
  const port = options.port === 0 || options.port === undefined && options.ephemeral
    ? freePort()
    : options.port ?? 9092;
  if (!portIsFree(port)) {
    throw new Error(`Port ${port} on 127.0.0.1 is in use; pass a free port with --port`);
  }
  const controllerPort = freePort();
  const dataDir = options.ephemeral
    ? await Deno.makeTempDir({ prefix: "arena-kafka-" })
    : absolute(options.dataDir ?? `${CACHE_DIR}/kafka-data`);
  await Deno.mkdir(dataDir, { recursive: true });
  const formatted = await exists(`${dataDir}/kraft/meta.properties`);
  let secure: SecureListenerSetup | undefined;
  if (options.saslSsl) {
    if (formatted) {
      throw new Error(
        `A SASL_SSL listener needs a fresh data folder (its users are created when the ` +
          `storage is formatted), but ${dataDir} is formatted: use an ephemeral broker`,
      );
    }
    secure = await setUpSaslSsl(`${dataDir}/tls`, options.saslSsl, progress);
  }
  const propertiesFile = `${dataDir}/server.properties`;
  const log4jFile = `${dataDir}/log4j2.properties`;
  const logFile = `${dataDir}/broker.log`;
  await Deno.writeTextFile(
    propertiesFile,
    serverProperties({ port, controllerPort, dataDir, secure }),
  );
  await Deno.writeTextFile(log4jFile, LOG4J_PROPERTIES);
  const classpath = `${libs}/*`;
  if (!formatted) {
    const format = await new Deno.Command("java", {
      args: [
        "-cp",
        classpath,
        `-Dlog4j2.configurationFile=${log4jFile}`,
        "kafka.tools.StorageTool",
        "format",
        "--ignore-formatted",
        "-t",
        kafkaUuid(),
        "-c",
        propertiesFile,
        ...(options.saslSsl ? scramArguments(options.saslSsl.users) : []),
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!format.success) {
      const text = new TextDecoder().decode(format.stdout) +
        new TextDecoder().decode(format.stderr);
      throw new Error(`Formatting the Kafka storage in ${dataDir} failed:\n${text.trim()}`);
    }
  }
  const logHandle = await Deno.open(logFile, { create: true, append: true });
  const child = new Deno.Command("java", {
    args: [
      // Kafka's own heap size. A 400 MB young generation: with the 128-512 MB serial heap of
      // before, a 10-15 ms young collection every half second under the agents bench stalled
      // every decision in flight (each 28th tick); now one comes every 15 s or so.
      "-Xms1g",
      "-Xmx1g",
      "-Xmn400m",
      "-XX:+UseParallelGC",
      "-Djava.awt.headless=true",
      `-Dlog4j2.configurationFile=${log4jFile}`,
      "-cp",
      classpath,
      "kafka.Kafka",
      propertiesFile,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const copies = [child.stdout, child.stderr].map((stream) =>
    stream.pipeTo(logHandle.writable, { preventClose: true }).catch(() => {})
  );
  const exited = child.status.then(async (status) => {
    await Promise.all(copies);
    logHandle.close();
    return status.code;
  });
  let running = true;
  exited.then(() => running = false);
  const bootstrap = `127.0.0.1:${port}`;
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (running) {
        try {
          child.kill("SIGTERM");
        } catch {
          // Already gone.
        }
        const killer = setTimeout(() => {
          try {
            child.kill("SIGKILL");
          } catch {
            // Already gone.
          }
        }, 30_000);
        await exited;
        clearTimeout(killer);
      } else {
        await exited;
      }
      if (options.ephemeral) await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    })();
    return stopping;
  };
  const deadline = Date.now() + (options.startTimeoutMs ?? 90_000);
  try {
    while (!(await brokerAnswers(bootstrap, 3_000))) {
      if (!running) {
        throw new Error(
          `The Kafka broker exited during start-up with code ${await exited}; its log ` +
            `(${logFile}) ends with:\n${await tail(logFile)}`,
        );
      }
      if (Date.now() > deadline) {
        throw new Error(
          `The Kafka broker did not answer on ${bootstrap} within ` +
            `${options.startTimeoutMs ?? 90_000} ms; its log (${logFile}) ends with:\n` +
            (await tail(logFile)),
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  } catch (error) {
    await stop();
    throw error;
  }
  const saslSsl = secure
    ? { bootstrap: `127.0.0.1:${secure.port}`, caFile: secure.caFile }
    : undefined;
  return { bootstrap, dataDir, saslSsl, logFile, exited, stop };
}

/** Files and port of a SASL_SSL listener, made before the broker starts. */
interface SecureListenerSetup {
  port: number;
  caFile: string;
  keystoreFile: string;
  keystorePassword: string;
  users: SaslUser[];
}

/** Options of {@linkcode makeCertificateAuthority}. */
export interface CertificateAuthorityOptions {
  /** The CA's common name (default "arena test CA"). */
  name?: string;
}

/** A self-signed CA made by {@linkcode makeCertificateAuthority}. */
export interface CertificateAuthority {
  /** PEM certificate file. */
  caFile: string;
  /** PEM private key file. */
  keyFile: string;
}

/** Where {@linkcode newKeyAndRequest} writes, and what it asks for. */
interface KeyRequest {
  /** The new private key (RSA 2048, unencrypted). */
  keyFile: string;
  /** The signing request, or the certificate when self-signed. */
  outFile: string;
  /** Distinguished name, e.g. `/CN=localhost`. */
  subject: string;
  /** Sign it with its own key, valid this many days (a CA); default a request to sign. */
  selfSignedDays?: number;
}

/** `openssl req`: a new key and, for it, a certificate signing request or a self-signed one. */
async function newKeyAndRequest(request: KeyRequest): Promise<void> {
  const selfSigned = request.selfSignedDays === undefined
    ? []
    : ["-x509", "-days", String(request.selfSignedDays)];
  await run("openssl", [
    "req",
    ...selfSigned,
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    request.keyFile,
    "-out",
    request.outFile,
    "-subj",
    request.subject,
  ]);
}

/** Makes a self-signed CA (RSA 2048, valid 2 days) with openssl in `dir`. */
export async function makeCertificateAuthority(
  dir: string,
  options: CertificateAuthorityOptions = {},
): Promise<CertificateAuthority> {
  await requireTool("openssl", ["version"], "install OpenSSL (e.g. the openssl package)");
  await Deno.mkdir(dir, { recursive: true });
  const caFile = `${dir}/ca.pem`;
  const keyFile = `${dir}/ca.key`;
  await newKeyAndRequest({
    keyFile,
    outFile: caFile,
    subject: `/CN=${options.name ?? "arena test CA"}`,
    selfSignedDays: 2,
  });
  return { caFile, keyFile };
}

/** Makes the CA, the broker's certificate (127.0.0.1, localhost) and its PKCS12 keystore. */
async function setUpSaslSsl(
  dir: string,
  options: SaslSslListenerOptions,
  progress: (line: string) => void,
): Promise<SecureListenerSetup> {
  if (options.users.length === 0) {
    throw new Error("A SASL_SSL listener needs at least one user, got none");
  }
  for (const user of options.users) {
    if (
      !/^[A-Za-z0-9._-]+$/.test(user.username) || !/^[A-Za-z0-9._~!@#%^*+-]+$/.test(user.password)
    ) {
      throw new Error(
        `SASL user names must match [A-Za-z0-9._-]+ and passwords [A-Za-z0-9._~!@#%^*+-]+, ` +
          `got user ${JSON.stringify(user.username)}`,
      );
    }
  }
  await requireTool("keytool", ["-help"], "install a Java 17+ runtime, which has keytool");
  progress("Making a self-signed CA and broker certificate for the SASL_SSL listener");
  const ca = await makeCertificateAuthority(dir);
  const keyFile = `${dir}/broker.key`;
  const requestFile = `${dir}/broker.csr`;
  const certFile = `${dir}/broker.pem`;
  const extensionsFile = `${dir}/broker.ext`;
  const bundleFile = `${dir}/broker.p12`;
  const keystoreFile = `${dir}/broker.keystore.p12`;
  const keystorePassword = crypto.randomUUID().replaceAll("-", "");
  await newKeyAndRequest({ keyFile, outFile: requestFile, subject: "/CN=localhost" });
  await Deno.writeTextFile(
    extensionsFile,
    "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
  );
  await run("openssl", [
    "x509",
    "-req",
    "-in",
    requestFile,
    "-CA",
    ca.caFile,
    "-CAkey",
    ca.keyFile,
    "-CAcreateserial",
    "-out",
    certFile,
    "-days",
    "2",
    "-extfile",
    extensionsFile,
  ]);
  await run("openssl", [
    "pkcs12",
    "-export",
    "-in",
    certFile,
    "-inkey",
    keyFile,
    "-certfile",
    ca.caFile,
    "-name",
    "broker",
    "-out",
    bundleFile,
    "-passout",
    `pass:${keystorePassword}`,
  ]);
  // keytool writes the keystore the broker reads (and checks the bundle on the way).
  await run("keytool", [
    "-importkeystore",
    "-noprompt",
    "-srckeystore",
    bundleFile,
    "-srcstoretype",
    "PKCS12",
    "-srcstorepass",
    keystorePassword,
    "-destkeystore",
    keystoreFile,
    "-deststoretype",
    "PKCS12",
    "-deststorepass",
    keystorePassword,
  ]);
  return {
    port: freePort(),
    caFile: ca.caFile,
    keystoreFile,
    keystorePassword,
    users: options.users,
  };
}

/** The storage tool's arguments that create SCRAM credentials for every user. */
function scramArguments(users: SaslUser[]): string[] {
  return users.flatMap((user) =>
    ["SCRAM-SHA-256", "SCRAM-SHA-512"].flatMap((mechanism) => [
      "--add-scram",
      `${mechanism}=[name=${user.username},password=${user.password}]`,
    ])
  );
}

/** Runs a command; throws with its output when it fails. */
async function run(command: string, args: string[]): Promise<void> {
  const output = await new Deno.Command(command, { args, stdout: "piped", stderr: "piped" })
    .output();
  if (!output.success) {
    const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
    throw new Error(`${command} ${args[0]} failed (exit ${output.code}):\n${text.trim()}`);
  }
}

function secureProperties(secure: SecureListenerSetup): string[] {
  const plainUsers = secure.users.map((user) => `user_${user.username}="${user.password}"`)
    .join(" ");
  return [
    "sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512,PLAIN",
    "listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=" +
    "org.apache.kafka.common.security.scram.ScramLoginModule required;",
    "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=" +
    "org.apache.kafka.common.security.scram.ScramLoginModule required;",
    "listener.name.sasl_ssl.plain.sasl.jaas.config=" +
    `org.apache.kafka.common.security.plain.PlainLoginModule required ${plainUsers};`,
    "ssl.keystore.type=PKCS12",
    `ssl.keystore.location=${secure.keystoreFile}`,
    `ssl.keystore.password=${secure.keystorePassword}`,
    `ssl.key.password=${secure.keystorePassword}`,
    "ssl.client.auth=none",
  ];
}

function serverProperties(
  options: { port: number; controllerPort: number; dataDir: string; secure?: SecureListenerSetup },
): string {
  const secure = options.secure;
  const listeners = [
    `PLAINTEXT://127.0.0.1:${options.port}`,
    ...(secure ? [`SASL_SSL://127.0.0.1:${secure.port}`] : []),
  ];
  return [
    "# Written by scripts/_kafka_broker.ts at every start.",
    "process.roles=broker,controller",
    "node.id=1",
    `controller.quorum.voters=1@127.0.0.1:${options.controllerPort}`,
    `listeners=${listeners.join(",")},CONTROLLER://127.0.0.1:${options.controllerPort}`,
    `advertised.listeners=${listeners.join(",")}`,
    "controller.listener.names=CONTROLLER",
    "inter.broker.listener.name=PLAINTEXT",
    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT" +
    (secure ? ",SASL_SSL:SASL_SSL" : ""),
    ...(secure ? secureProperties(secure) : []),
    `log.dirs=${options.dataDir}/kraft`,
    "num.partitions=3",
    "default.replication.factor=1",
    "min.insync.replicas=1",
    "offsets.topic.replication.factor=1",
    "offsets.topic.num.partitions=10",
    "transaction.state.log.replication.factor=1",
    "transaction.state.log.min.isr=1",
    "transaction.state.log.num.partitions=5",
    "share.coordinator.state.topic.replication.factor=1",
    "share.coordinator.state.topic.min.isr=1",
    "group.initial.rebalance.delay.ms=0",
    // Kafka 4.x holds every offset commit this long before answering (default 5 ms).
    "group.coordinator.append.linger.ms=0",
    "auto.create.topics.enable=true",
    "log.retention.check.interval.ms=60000",
    "",
  ].join("\n");
}

const LOG4J_PROPERTIES = [
  "# Warnings and errors only; written by scripts/_kafka_broker.ts.",
  "appender.out.type=Console",
  "appender.out.name=out",
  "appender.out.layout.type=PatternLayout",
  "appender.out.layout.pattern=[%d] %p %m (%c)%n",
  "rootLogger.level=WARN",
  "rootLogger.appenderRef.out.ref=out",
  "logger.started.name=kafka.server.KafkaRaftServer",
  "logger.started.level=INFO",
  "",
].join("\n");

/** A random Kafka cluster id: 16 random bytes in URL-safe base64 without padding. */
function kafkaUuid(): string {
  for (;;) {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    const id = btoa(String.fromCharCode(...bytes))
      .replaceAll("+", "-")
      .replaceAll("/", "_")
      .replace(/=+$/, "");
    if (!id.startsWith("-")) return id;
  }
}

function portIsFree(port: number): boolean {
  try {
    Deno.listen({ hostname: "127.0.0.1", port }).close();
    return true;
  } catch {
    return false;
  }
}

function absolute(path: string): string {
  return path.startsWith("/") ? path : `${Deno.cwd()}/${path}`;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

async function tail(path: string, lines = 30): Promise<string> {
  try {
    return (await Deno.readTextFile(path)).trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}
