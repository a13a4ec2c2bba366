import type { V1EnvVarSource } from '@kubernetes/client-node';
import type { MicroserviceSpec } from '../api/types';

/** Content of the ConfigMaps and Secrets a Microservice references: name -> data (Secret data base64, as the API returns it). */
export interface TrackedContent {
  configMaps: Record<string, Record<string, string>>;
  secrets: Record<string, Record<string, string>>;
}

/** A referenced ConfigMap or Secret. `optional` is true only when every reference to it is optional. */
export interface ConfigReference {
  name: string;
  optional: boolean;
}

export interface ReferencedConfig {
  configMaps: ConfigReference[];
  secrets: ConfigReference[];
}

interface NamedRef {
  name?: string;
  optional?: boolean;
}

/**
 * The ConfigMaps and Secrets the app container reads through `env` and `envFrom`, sorted by name
 * and unique. The caller fetches them, treats a missing optional one as absent, and passes their
 * content back in TrackedContent.
 */
export function referencedConfig(spec: MicroserviceSpec): ReferencedConfig {
  const configMaps: NamedRef[] = [];
  const secrets: NamedRef[] = [];
  for (const source of spec.envFrom ?? []) {
    if (source.configMapRef) configMaps.push(source.configMapRef);
    if (source.secretRef) secrets.push(source.secretRef);
  }
  for (const variable of spec.env ?? []) {
    // valueFrom is passed through unvalidated by the CRD, so read it defensively.
    const source = variable.valueFrom as V1EnvVarSource | undefined;
    if (source?.configMapKeyRef) configMaps.push(source.configMapKeyRef);
    if (source?.secretKeyRef) secrets.push(source.secretKeyRef);
  }
  return { configMaps: uniqueByName(configMaps), secrets: uniqueByName(secrets) };
}

function uniqueByName(refs: NamedRef[]): ConfigReference[] {
  const byName = new Map<string, boolean>();
  for (const ref of refs) {
    if (typeof ref.name !== 'string' || ref.name === '') continue;
    // One required reference makes the object required.
    byName.set(ref.name, (byName.get(ref.name) ?? true) && ref.optional === true);
  }
  return [...byName.keys()].sort().map((name) => ({ name, optional: byName.get(name) === true }));
}

/** Keeps only the referenced objects' content, so nothing unrelated can move the revision. */
export function onlyReferenced(tracked: TrackedContent, referenced: ReferencedConfig): TrackedContent {
  const pick = (all: Record<string, Record<string, string>>, refs: ConfigReference[]) =>
    Object.fromEntries(refs.filter((ref) => Object.hasOwn(all, ref.name)).map((ref) => [ref.name, all[ref.name]!]));
  return {
    configMaps: pick(tracked.configMaps, referenced.configMaps),
    secrets: pick(tracked.secrets, referenced.secrets),
  };
}
