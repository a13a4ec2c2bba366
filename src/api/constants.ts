// Names shared by the operator, its tests and its docs.

export const GROUP = 'msop.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = 'Microservice';
export const PLURAL = 'microservices';

/** Field managers for server-side apply: children and status are owned separately. */
export const FIELD_MANAGER = 'msop';
export const STATUS_FIELD_MANAGER = 'msop-status';
/** Holds spec.replicas when msop hands it to an HPA, so the field keeps its value. */
export const HANDOVER_FIELD_MANAGER = 'msop-handover';

export const LABEL_MICROSERVICE = 'msop.dev/microservice';
export const LABEL_TRACK = 'msop.dev/track';
export const LABEL_REVISION = 'msop.dev/revision';
export const LABEL_NAME = 'app.kubernetes.io/name';
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'msop';

export const ANNOTATION_ACTION = 'msop.dev/action';
/** The values of msop.dev/action that msop acts on. */
export const ACTIONS = ['promote', 'promote-full', 'abort', 'retry', 'skip-analysis'] as const;
export type ReleaseAction = (typeof ACTIONS)[number];

export const TRACK_STABLE = 'stable';
export const TRACK_CANARY = 'canary';
export const TRACK_BASELINE = 'baseline';
export const TRACK_PREVIEW = 'preview';

export const CONDITION_READY = 'Ready';
export const CONDITION_RECONCILING = 'Reconciling';
export const CONDITION_STALLED = 'Stalled';
export const CONDITION_RELEASED = 'Released';
export const CONDITION_ANALYSIS_HEALTHY = 'AnalysisHealthy';

export type Phase = 'Initializing' | 'Ready' | 'Progressing' | 'Paused' | 'Promoting' | 'RolledBack' | 'Failed';

/** The comparator of a parallel run: its pods' track, its Service `<name>-compare` and ReplicaSets `<name>-compare-<hash>`. */
export const TRACK_COMPARATOR = 'comparator';
export const COMPARATOR_SUFFIX = 'compare';
/** The comparator's mirrored-traffic port, and its metrics port (named http, so the documented scrape job finds it). */
export const COMPARATOR_PORT = 8080;
export const COMPARATOR_METRICS_PORT = 9102;
/** Only idempotent requests are mirrored unless release.canary.parallelRun.methods says otherwise. */
export const DEFAULT_MIRRORED_METHODS = ['GET', 'HEAD', 'OPTIONS'];

/** On Microservices with a weighted router: msop takes its rules and backends off the user's routes before deletion. */
export const FINALIZER_ROUTES = 'msop.dev/routes';
