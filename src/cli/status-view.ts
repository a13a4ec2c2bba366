// `kubectl msop status`, drawn as text. Pure: the same Microservice and time
// always give the same string, so the layout is tested line by line.
//
//   Name     shop/orders
//   Image    registry.example.com/shop/orders:1.4.3
//   Phase    Progressing
//   Stable   2adba111
//   Canary   3fd15463
//   Strategy Canary, router replicas
//   Weight   desired [###-------] 25%
//            actual  [###-------] 25%
//   Replicas stable 3/3 ready, canary 1/1 ready
//   Message  Canary 3fd15463 at 25%
//
//   Steps (step 2 of 4)
//        1  setWeight 25          done
//     >  2  pause 60s             now (40s left)
//        3  setWeight 50
//        4  pause 60s
//           promote
//
//   Conditions
//     TYPE         STATUS  REASON       AGE
//     Ready        False   Progressing  2m
import type { CanarySettings, Condition, Microservice } from '../api/types';
import { formatDuration } from '../api/duration';
import { describeStep, releaseSteps, type Step } from '../rollout/steps';
import { effectiveValue } from './explain-view';

export interface RenderOptions {
  /** ANSI colours; only for a terminal. */
  color?: boolean;
}

const LABEL_WIDTH = 9;
const BAR_WIDTH = 10;

type Paint = (code: string, text: string) => string;

export function renderStatus(microservice: Microservice, now: Date, options: RenderOptions = {}): string {
  const paint: Paint = options.color ? (code, text) => `\x1b[${code}m${text}\x1b[0m` : (_code, text) => text;
  const { metadata, spec } = microservice;
  const status = microservice.status ?? {};
  const lines: string[] = [];
  const field = (label: string, value: string) => lines.push(`${label.padEnd(LABEL_WIDTH)}${value}`.trimEnd());

  field('Name', `${metadata.namespace ?? 'default'}/${metadata.name}`);
  field('Image', spec.image);
  field('Phase', status.phase ? paint(phaseColour(status.phase), status.phase) : 'Unknown (no status yet)');
  if (
    status.observedGeneration !== undefined &&
    metadata.generation !== undefined &&
    status.observedGeneration < metadata.generation
  ) {
    field(
      'Note',
      `status is for generation ${status.observedGeneration}; the spec is at generation ${metadata.generation}`,
    );
  }
  // The effective values: an Environment or the operator may set what the spec leaves out.
  const strategy = (effectiveValue(microservice, 'release.strategy') as string | undefined) ?? 'Rolling';
  const blueGreen = strategy === 'BlueGreen';
  field('Stable', status.stableRevision ?? '-');
  field(blueGreen ? 'Preview' : 'Canary', status.canaryRevision ?? '-');
  if (blueGreen) field('Active', activeRevision(status));
  if (status.failedRevision)
    field('Failed', `${status.failedRevision} (rolled back; kubectl msop retry to release it again)`);

  const router =
    (effectiveValue(microservice, `release.${blueGreen ? 'blueGreen' : 'canary'}.traffic.router`) as
      string | undefined) ?? 'replicas';
  field('Strategy', strategy === 'Rolling' ? strategy : `${strategy}, router ${router}`);
  if (spec.release?.paused) field('Hold', `spec.release.paused is true (kubectl msop resume ${metadata.name})`);

  const inRelease = status.canaryRevision !== undefined;
  if (!blueGreen && (inRelease || (status.canaryWeight ?? 0) > 0 || (status.desiredWeight ?? 0) > 0)) {
    field('Weight', `desired ${weightBar(status.desiredWeight ?? 0)}`);
    field('', `actual  ${weightBar(status.canaryWeight ?? 0)}`);
  }
  field('Replicas', replicaLine(microservice));
  if (status.message) field('Message', status.message);

  if (strategy === 'Canary') lines.push('', ...stepLines(microservice, now, paint));
  if (blueGreen) lines.push('', ...stageLines(microservice, paint));
  const differences = status.analysis?.differences ?? [];
  if (differences.length > 0)
    lines.push('', 'Parallel run: answers that differed (latest)', ...differences.map((d) => `  ${d}`));
  lines.push('', ...conditionLines(status.conditions ?? [], now));
  return `${lines.join('\n')}\n`;
}

/** `[#####-----] 50%`: one mark per 10%. */
export function weightBar(weight: number): string {
  const clamped = Math.min(100, Math.max(0, weight));
  const filled = Math.round((clamped * BAR_WIDTH) / 100);
  return `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${weight}%`;
}

function phaseColour(phase: string): string {
  switch (phase) {
    case 'Ready':
      return '32'; // green
    case 'Failed':
    case 'RolledBack':
      return '31'; // red
    case 'Paused':
      return '33'; // yellow
    default:
      return '36'; // cyan
  }
}

/** Stable ready/desired and canary ready/desired, from the counts msop writes. */
function replicaLine(microservice: Microservice): string {
  const status = microservice.status ?? {};
  const canaryDesired = status.canaryReplicas ?? 0;
  const canaryReady = status.canaryReadyReplicas ?? 0;
  // status.ready is "ready/desired" over both tracks; the stable's share is what the canary does not take.
  const totalDesired = Number(/^\d+\/(\d+)$/.exec(status.ready ?? '')?.[1] ?? NaN);
  const stableDesired = Number.isFinite(totalDesired)
    ? totalDesired - canaryDesired
    : (microservice.spec.replicas ?? Math.max(0, (status.replicas ?? 0) - canaryDesired));
  const stableReady = Math.max(0, (status.readyReplicas ?? 0) - canaryReady);
  const stable = `stable ${stableReady}/${stableDesired} ready`;
  const hasCanary = status.canaryReplicas !== undefined || status.canaryRevision !== undefined;
  const track = microservice.spec.release?.strategy === 'BlueGreen' ? 'preview' : 'canary';
  return hasCanary ? `${stable}, ${track} ${canaryReady}/${canaryDesired} ready` : stable;
}

/** The revision live traffic reaches: the preview once switched, else the stable one. */
function activeRevision(status: NonNullable<Microservice['status']>): string {
  const switched = status.release?.switchTime !== undefined && status.canaryRevision !== undefined;
  return (switched ? status.canaryRevision : status.stableRevision) ?? '-';
}

/** The stages of a blue-green release, the current one marked. */
function stageLines(microservice: Microservice, paint: Paint): string[] {
  const status = microservice.status ?? {};
  const release = status.release;
  if (status.canaryRevision === undefined || !release) return ['Stages (no release in progress)'];
  const settings = microservice.spec.release?.blueGreen ?? {};
  const stages = [
    'preview starts, every pod ready',
    'checked, then promoted' +
      (settings.autoPromotionSeconds === undefined
        ? ' (kubectl msop promote)'
        : ` (auto after ${settings.autoPromotionSeconds}s)`),
    'switch: all traffic to the preview',
    `old pods kept warm ${settings.scaleDownDelaySeconds ?? 30}s, checked on live traffic`,
    'Deployment moves to the new revision, preview removed',
  ];
  // The planner's messages name the stage: "Switching all traffic…", "Promoting <revision>: …".
  const message = status.message ?? '';
  const current =
    status.phase === 'RolledBack'
      ? -1
      : release.switchTime === undefined
        ? release.previewReadyTime === undefined
          ? 0
          : message.startsWith('Switching')
            ? 2
            : 1
        : message.startsWith('Promoting ')
          ? 4
          : 3;
  return [
    'Stages',
    ...stages.map((text, index) => {
      const line = `  ${index === current ? '>' : ' '}  ${String(index + 1).padStart(2)}  ${text}${index < current ? '  done' : ''}`;
      return index === current ? paint('1', line) : line;
    }),
  ];
}

function stepLines(microservice: Microservice, now: Date, paint: Paint): string[] {
  const status = microservice.status ?? {};
  let steps: Step[];
  try {
    // The effective steps: an Environment or the operator may define them (status.defaulted).
    const effective = Object.fromEntries(
      ['steps', 'stepWeight', 'maxWeight', 'stepInterval']
        .map((key) => [key, effectiveValue(microservice, `release.canary.${key}`)])
        .filter(([, value]) => value !== undefined),
    ) as CanarySettings;
    steps = releaseSteps(effective);
  } catch (err) {
    return ['Steps', `  cannot be run: ${(err as Error).message}`];
  }
  const inRelease = status.canaryRevision !== undefined;
  const current = inRelease ? (status.currentStep ?? 0) : undefined;
  const header =
    current === undefined
      ? 'Steps (no release in progress)'
      : current < steps.length
        ? `Steps (step ${current + 1} of ${steps.length})`
        : `Steps (all ${steps.length} done, promoting)`;
  const started = status.release?.stepStartTime;
  const elapsedMs = started ? now.getTime() - Date.parse(started) : undefined;
  const rows = [...steps.map((step) => describeStep(step)), 'promote'];
  const width = Math.max(...rows.map((r) => r.length));
  const lines = [header];
  rows.forEach((text, index) => {
    const isPromote = index === steps.length;
    const number = isPromote ? '' : String(index + 1);
    const isCurrent = current !== undefined && (index === current || (isPromote && current > steps.length));
    let note = '';
    if (current !== undefined && index < current && !isPromote) note = 'done';
    if (isCurrent) note = currentNote(steps[index], elapsedMs, microservice.metadata.name ?? 'NAME');
    const line = `  ${isCurrent ? '>' : ' '}  ${number.padStart(2)}  ${text.padEnd(width)}  ${note}`.trimEnd();
    lines.push(isCurrent ? paint('1', line) : line);
  });
  return lines;
}

function currentNote(step: Step | undefined, elapsedMs: number | undefined, name: string): string {
  if (step?.kind === 'pause' && step.durationMs === undefined) return `now (waiting for kubectl msop promote ${name})`;
  if (elapsedMs === undefined || elapsedMs < 0) return 'now';
  if ((step?.kind === 'pause' || step?.kind === 'mirror') && step.durationMs !== undefined) {
    return `now (${toSeconds(Math.max(0, step.durationMs - elapsedMs))} left)`;
  }
  return `now (${toSeconds(elapsedMs)})`;
}

/** Times in the view, to the second. */
const toSeconds = (ms: number): string => formatDuration(Math.round(ms / 1000) * 1000);

function conditionLines(conditions: Condition[], now: Date): string[] {
  if (conditions.length === 0) return ['Conditions (none)'];
  const rows = [
    ['TYPE', 'STATUS', 'REASON', 'AGE'],
    ...conditions.map((c) => [c.type, c.status, c.reason, age(now.getTime() - Date.parse(c.lastTransitionTime))]),
  ];
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((row) => row[col]!.length)));
  return [
    'Conditions',
    ...rows.map((row) => `  ${row.map((cell, col) => cell.padEnd(widths[col]!)).join('  ')}`.trimEnd()),
  ];
}

/** kubectl-style ages: 45s, 12m, 5h, 3d. */
export function age(ms: number): string {
  if (!Number.isFinite(ms)) return '-';
  const seconds = Math.max(0, Math.floor(ms / 1_000));
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours}h`;
  return `${Math.floor(hours / 24)}d`;
}
