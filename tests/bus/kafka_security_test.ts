/** Kafka security settings: parsing flags and environment, kafkajs mapping, one-line failures. */

import assert from "node:assert/strict";
import {
  describeKafkaFailure,
  kafkajsSecurity,
  type KafkaSecurity,
  parseKafkaSecurity,
  summarizeKafkaSecurity,
} from "../../core/bus/kafka_security.ts";

const PASSWORD = "pa55-Word-xyz";
const CREDENTIALS = { KAFKA_SASL_USERNAME: "arena", KAFKA_SASL_PASSWORD: PASSWORD };
const SASL_SSL: KafkaSecurity = {
  protocol: "SASL_SSL",
  sasl: { mechanism: "scram-sha-256", username: "arena", password: PASSWORD },
  caFile: "certs/ca.pem",
  caPem: "-----BEGIN CERTIFICATE-----\n",
};

function env(values: Record<string, string>): Map<string, string> {
  return new Map(Object.entries(values));
}

const PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

Deno.test("parseKafkaSecurity defaults to PLAINTEXT with nothing set", () => {
  assert.deepEqual(parseKafkaSecurity({}, env({})), { protocol: "PLAINTEXT" });
  assert.deepEqual(kafkajsSecurity(parseKafkaSecurity({}, env({}))), {});
});

Deno.test("parseKafkaSecurity reads the environment when no flag is given", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/ca.pem`, PEM);
    const security = parseKafkaSecurity(
      {},
      env({
        ...CREDENTIALS,
        KAFKA_SECURITY_PROTOCOL: "sasl_ssl",
        KAFKA_SASL_MECHANISM: "SCRAM-SHA-512",
        KAFKA_SSL_CA_LOCATION: `${dir}/ca.pem`,
      }),
    );
    assert.deepEqual(security, {
      protocol: "SASL_SSL",
      sasl: { mechanism: "scram-sha-512", username: "arena", password: PASSWORD },
      caPem: PEM,
      caFile: `${dir}/ca.pem`,
    });
    assert.deepEqual(kafkajsSecurity(security), {
      ssl: { ca: [PEM] },
      sasl: { mechanism: "scram-sha-512", username: "arena", password: PASSWORD },
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("parseKafkaSecurity prefers flag values to the environment", () => {
  const security = parseKafkaSecurity(
    { protocol: "SASL_PLAINTEXT", mechanism: "plain" },
    env({ ...CREDENTIALS, KAFKA_SECURITY_PROTOCOL: "SSL", KAFKA_SASL_MECHANISM: "scram-sha-256" }),
  );
  assert.equal(security.protocol, "SASL_PLAINTEXT");
  assert.equal(security.sasl?.mechanism, "plain");
  assert.equal(security.caPem, undefined);
});

Deno.test("parseKafkaSecurity uses the system roots for SSL without a CA file", () => {
  const security = parseKafkaSecurity({ protocol: "SSL" }, env({}));
  assert.deepEqual(kafkajsSecurity(security), { ssl: true });
});

Deno.test("parseKafkaSecurity rejects unknown protocols and mechanisms with the valid ones", () => {
  assert.throws(
    () => parseKafkaSecurity({ protocol: "TLS" }, env({})),
    /^Error: Security protocol must be one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL, got "TLS"$/,
  );
  assert.throws(
    () =>
      parseKafkaSecurity(
        {},
        env({
          ...CREDENTIALS,
          KAFKA_SECURITY_PROTOCOL: "SASL_SSL",
          KAFKA_SASL_MECHANISM: "gssapi",
        }),
      ),
    /SASL mechanism must be one of plain, scram-sha-256, scram-sha-512, got "gssapi"/,
  );
});

Deno.test("parseKafkaSecurity names the missing credential variables, never a value", () => {
  assert.throws(
    () => parseKafkaSecurity({ protocol: "SASL_SSL", mechanism: "plain" }, env({})),
    /needs SASL credentials: set KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD/,
  );
  assert.throws(
    () =>
      parseKafkaSecurity(
        { protocol: "SASL_SSL", mechanism: "plain" },
        env({ KAFKA_SASL_PASSWORD: PASSWORD }),
      ),
    (error: Error) =>
      /set KAFKA_SASL_USERNAME in/.test(error.message) &&
      !error.message.includes(PASSWORD),
  );
  assert.throws(
    () => parseKafkaSecurity({ protocol: "SASL_SSL" }, env(CREDENTIALS)),
    /needs a SASL mechanism: pass --sasl-mechanism plain\|scram-sha-256\|scram-sha-512/,
  );
});

Deno.test("parseKafkaSecurity rejects settings that contradict the protocol", () => {
  assert.throws(
    () => parseKafkaSecurity({ mechanism: "plain" }, env(CREDENTIALS)),
    /A SASL mechanism needs security protocol SASL_PLAINTEXT or SASL_SSL, got PLAINTEXT/,
  );
  assert.throws(
    () =>
      parseKafkaSecurity(
        { protocol: "SASL_PLAINTEXT", mechanism: "plain", caFile: "x.pem" },
        env(CREDENTIALS),
      ),
    /A CA file needs security protocol SSL or SASL_SSL, got SASL_PLAINTEXT/,
  );
});

Deno.test("parseKafkaSecurity says when the CA file is missing or not PEM", async () => {
  assert.throws(
    () => parseKafkaSecurity({ protocol: "SSL", caFile: "no/such/ca.pem" }, env({})),
    /CA file no\/such\/ca\.pem \(--ssl-ca or KAFKA_SSL_CA_LOCATION\) cannot be read: no such file/,
  );
  const file = await Deno.makeTempFile({ suffix: ".pem" });
  try {
    await Deno.writeTextFile(file, "not a certificate");
    assert.throws(
      () => parseKafkaSecurity({ protocol: "SSL", caFile: file }, env({})),
      /must hold PEM certificates/,
    );
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("empty environment values count as unset (compose passes empty strings)", () => {
  const security = parseKafkaSecurity(
    {},
    env({
      KAFKA_SECURITY_PROTOCOL: "",
      KAFKA_SASL_MECHANISM: "",
      KAFKA_SSL_CA_LOCATION: "",
      KAFKA_SASL_USERNAME: "",
      KAFKA_SASL_PASSWORD: "",
    }),
  );
  assert.deepEqual(security, { protocol: "PLAINTEXT" });
});

Deno.test("summarizeKafkaSecurity shows protocol, mechanism, user and CA, never the password", () => {
  const line = summarizeKafkaSecurity(SASL_SSL);
  assert.equal(line, "SASL_SSL, scram-sha-256 as arena, CA certs/ca.pem");
  assert.equal(summarizeKafkaSecurity({ protocol: "SSL" }), "SSL, system CA roots");
});

/** kafkajs errors as seen from a real broker (tests/bus/security_test.ts produces them live). */
function kafkajsError(name: string, message: string, broker?: string): Error {
  const error = new Error(message);
  error.name = name;
  return Object.assign(error, broker ? { broker } : {});
}

Deno.test("describeKafkaFailure names a wrong password without echoing it", () => {
  const error = kafkajsError(
    "KafkaJSSASLAuthenticationError",
    "SASL SCRAM SHA256 authentication failed: Authentication failed during authentication due " +
      `to invalid credentials with SASL mechanism SCRAM-SHA-256 ${PASSWORD}`,
  );
  const line = describeKafkaFailure(error, SASL_SSL)!;
  assert.match(line, /^SASL authentication failed for user "arena" \(scram-sha-256\)/);
  assert.match(line, /KAFKA_SASL_PASSWORD/);
  assert.ok(!line.includes(PASSWORD));
  assert.ok(!line.includes("\n"));
});

Deno.test("describeKafkaFailure names an unknown CA and the CA file tried", () => {
  const cause = kafkajsError(
    "KafkaJSConnectionError",
    "Connection error: self-signed certificate in certificate chain",
    "127.0.0.1:9093",
  );
  const error = Object.assign(new Error(cause.message), {
    name: "KafkaJSNumberOfRetriesExceeded",
    originalError: cause,
  });
  assert.equal(
    describeKafkaFailure(error, SASL_SSL),
    "TLS certificate of the Kafka broker at 127.0.0.1:9093 is not signed by the CA in " +
      "certs/ca.pem (certificate verify failed): pass the CA that signed it with --ssl-ca FILE " +
      "or KAFKA_SSL_CA_LOCATION",
  );
  const rustls = new Error("invalid peer certificate: UnknownIssuer");
  assert.match(describeKafkaFailure(rustls, { protocol: "SSL" })!, /system's CA roots/);
});

Deno.test("describeKafkaFailure names a plaintext client on a TLS port", () => {
  const error = kafkajsError("KafkaJSConnectionClosedError", "Closed connection", "127.0.0.1:9093");
  const line = describeKafkaFailure(error, { protocol: "PLAINTEXT" })!;
  assert.match(line, /closed the connection of a PLAINTEXT client: the port probably expects TLS/);
  assert.match(line, /--security-protocol SSL or SASL_SSL/);
  assert.match(describeKafkaFailure(error, undefined)!, /expects TLS/);
  // @platformatic/kafka says it outright.
  const platformatic = Object.assign(new Error("Broker requires TLS."), { code: "PLT_KFK_USER" });
  assert.match(describeKafkaFailure(platformatic, undefined)!, /expects TLS/);
});

Deno.test("describeKafkaFailure names a TLS client on a plaintext port", () => {
  const error = new Error(
    "Connection error: Client network socket disconnected before secure TLS connection was established",
  );
  assert.match(
    describeKafkaFailure(error, SASL_SSL)!,
    /did not complete a TLS handshake \(SASL_SSL\): the port probably expects plaintext/,
  );
});

Deno.test("describeKafkaFailure reads causes and aggregated errors (@platformatic/kafka)", () => {
  const inner = Object.assign(new Error("SASL authentication failed."), {
    code: "PLT_KFK_AUTHENTICATION",
  });
  const outer = new AggregateError([inner], "Cannot connect to any broker.");
  assert.match(describeKafkaFailure(outer, SASL_SSL)!, /^SASL authentication failed/);
  const wrapped = new Error("Connecting failed", { cause: inner });
  assert.match(describeKafkaFailure(wrapped, SASL_SSL)!, /^SASL authentication failed/);
});

Deno.test("describeKafkaFailure leaves other errors to the caller (no broker at all)", () => {
  const refused = new Error("Connection error: connect ECONNREFUSED 127.0.0.1:1");
  assert.equal(describeKafkaFailure(refused, SASL_SSL), undefined);
  assert.equal(describeKafkaFailure(refused, undefined), undefined);
  assert.equal(describeKafkaFailure(new Error("Topic not found"), undefined), undefined);
  assert.equal(describeKafkaFailure(undefined, undefined), undefined);
});

Deno.test("describeKafkaFailure does not blame TLS for a host that does not answer", () => {
  for (const message of ["Connection timeout", "No answer within 2000 ms"]) {
    assert.equal(describeKafkaFailure(new Error(message), undefined), undefined, message);
    assert.equal(describeKafkaFailure(new Error(message), SASL_SSL), undefined, message);
  }
});
