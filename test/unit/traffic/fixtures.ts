import type { Microservice, MicroserviceSpec } from '../../../src/api/types';

export function microservice(spec: Partial<MicroserviceSpec> = {}, name = 'orders', namespace = 'shop'): Microservice {
  return {
    apiVersion: 'msop.dev/v1alpha1',
    kind: 'Microservice',
    metadata: { name, namespace, uid: 'uid-1234', generation: 1 },
    spec: { image: 'registry.example.com/shop/orders:1.4.2', ...spec },
  };
}

export const OWNER_REFERENCE = {
  apiVersion: 'msop.dev/v1alpha1',
  kind: 'Microservice',
  name: 'orders',
  uid: 'uid-1234',
  controller: true,
  blockOwnerDeletion: true,
};
