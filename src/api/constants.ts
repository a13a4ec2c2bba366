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
