/** How a Kafka client encrypts and authenticates: the usual Kafka security settings. */

import type { KafkaConfig, SASLOptions } from "kafkajs";

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
  if (usesSasl(security.protocol)) {
    if (!security.sasl) {
      throw new Error(
        `Security protocol ${security.protocol} needs SASL credentials: set ` +
          "KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD",
      );
    }
    const { mechanism, username, password } = security.sasl;
    config.sasl = { mechanism, username, password } as SASLOptions;
  }
  return config;
}
