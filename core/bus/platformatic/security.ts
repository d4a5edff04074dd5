/** Kafka security settings mapped to @platformatic/kafka's `tls` and `sasl` client options. */

import type { SASLMechanismValue } from "@platformatic/kafka";
import type { ConnectionOptions as TlsOptions } from "node:tls";
import {
  type KafkaSecurity,
  saslCredentialsOf,
  type SaslMechanism,
  usesTls,
} from "../kafka_security.ts";

/** The `tls` and `sasl` options of a @platformatic/kafka client. */
export interface PlatformaticSecurityOptions {
  /** TLS settings; present only for the SSL protocols. */
  tls?: TlsOptions;
  /** SASL settings; present only for the SASL protocols. */
  sasl?: { mechanism: SASLMechanismValue; username: string; password: string };
}

const MECHANISMS: Record<SaslMechanism, SASLMechanismValue> = {
  "plain": "PLAIN",
  "scram-sha-256": "SCRAM-SHA-256",
  "scram-sha-512": "SCRAM-SHA-512",
};

/** The @platformatic/kafka client settings (`tls`, `sasl`) for security settings. */
export function platformaticSecurity(
  security: KafkaSecurity | undefined,
): PlatformaticSecurityOptions {
  if (!security || security.protocol === "PLAINTEXT") return {};
  const options: PlatformaticSecurityOptions = {};
  if (usesTls(security.protocol)) {
    options.tls = security.caPem ? { ca: [security.caPem] } : {};
  }
  const sasl = saslCredentialsOf(security);
  if (sasl) {
    const { mechanism, username, password } = sasl;
    const mapped = MECHANISMS[mechanism];
    if (!mapped) {
      throw new Error(
        `SASL mechanism must be one of ${Object.keys(MECHANISMS).join(", ")}, got ${mechanism}`,
      );
    }
    options.sasl = { mechanism: mapped, username, password };
  }
  return options;
}
