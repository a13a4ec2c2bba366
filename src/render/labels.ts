import {
  LABEL_MANAGED_BY,
  LABEL_MICROSERVICE,
  LABEL_NAME,
  LABEL_REVISION,
  LABEL_TRACK,
  MANAGED_BY,
} from '../api/constants';

export type Labels = Record<string, string>;

/** Selects every pod of a Microservice, whatever its track (apex Service, PDB). */
export function microserviceSelector(name: string): Labels {
  return { [LABEL_MICROSERVICE]: name };
}

/** Selects the pods of one track. Deployment selectors are immutable, so this never holds the revision. */
export function trackSelector(name: string, track: string): Labels {
  return { [LABEL_MICROSERVICE]: name, [LABEL_TRACK]: track };
}

/** Labels on every object msop renders. */
export function commonLabels(name: string): Labels {
  return { [LABEL_MICROSERVICE]: name, [LABEL_NAME]: name, [LABEL_MANAGED_BY]: MANAGED_BY };
}

/** Labels msop puts on pods before the revision is known: the revision hash is computed without it. */
export function podLabels(name: string, track: string): Labels {
  return { ...trackSelector(name, track), [LABEL_NAME]: name };
}

export function withRevision(labels: Labels, revision: string): Labels {
  return { ...labels, [LABEL_REVISION]: revision };
}
