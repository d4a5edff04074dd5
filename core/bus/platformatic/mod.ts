/** The Kafka bus on @platformatic/kafka, and what it is built from. */

export { PlatformaticKafkaBus, type PlatformaticKafkaBusOptions } from "./platformatic_bus.ts";
export { platformaticSecurity, type PlatformaticSecurityOptions } from "./security.ts";
export {
  type CommittableOffset,
  RecordDispatcher,
  type RecordDispatcherOptions,
} from "./dispatcher.ts";
