import type { V1ObjectMeta } from '@kubernetes/client-node';
import type { MicroserviceSpec, MicroserviceStatus } from './microservice.generated';

/**
 * The Microservice custom resource as read from the API server, where apiVersion, kind and metadata
 * are always present. It takes the place of the generated `Microservice`, whose envelope is optional.
 */
export interface Microservice {
  apiVersion: string;
  kind: string;
  metadata: V1ObjectMeta;
  spec: MicroserviceSpec;
  status?: MicroserviceStatus;
}

// A local declaration wins over a star export, so this re-exports everything but `Microservice`.
export type * from './microservice.generated';
