// The canary release state machine, pure: (settings, persisted release state,
// what the cluster shows now, a requested action, the time) → a plan for this
// reconcile and the next persisted state. All state it needs between
// reconciles lives in status, so a restarted operator continues where it was.
import type {
  ReleaseInput,
  ReleaseObservation,
  ReleasePlan,
  ReleaseSettings,
  ReleaseState,
  ReleaseEvent,
} from './release';
import { formatDuration, inReleasePlan, VERIFY_INTERVAL_MS } from './plan-defaults';
import { canaryReplicasFor, replicaWeight, stableReplicasFor } from './replicas';
import { activeMatches, describeMatch, parallelRunStarted, type Step } from './steps';

export function planCanary(input: ReleaseInput): ReleasePlan {
  const { observed, desiredRevision: revision, action } = input;
  const state: ReleaseState = { ...input.state };
  const events: ReleaseEvent[] = [];
  if (action === 'retry' && state.failedRevision === revision) {
    state.failedRevision = undefined;
    events.push({ type: 'Normal', reason: 'Retry', message: `Retrying revision ${revision} as asked` });
  }
  const ctx = new Context(input, state, events);

  // Nothing deployed yet: there is no stable revision to protect, so deploy straight to stable.
  if (observed.stableRevision === undefined || input.strategy === 'Rolling') return ctx.idle('desired');
  if (state.failedRevision === revision) return ctx.rolledBack();
  if (state.revision === revision && observed.stableRevision === revision) return ctx.finishPromotion();
  if (observed.stableRevision === revision) return ctx.idle('desired');
  return ctx.release();
}

class Context {
  private readonly settings: ReleaseSettings;
  private readonly observed: ReleaseObservation;
  private readonly revision: string;
  private readonly now: number;
  private readonly weighted: boolean;
  /** The total the weights are shares of: spec.replicas, or the stable's replicas under an HPA. */
  private readonly total: number;

  constructor(
    private readonly input: ReleaseInput,
    private readonly state: ReleaseState,
    private readonly events: ReleaseEvent[],
  ) {
    this.settings = input.settings;
    this.observed = input.observed;
    this.revision = input.desiredRevision;
    this.now = input.now.getTime();
    this.weighted = input.settings.router !== 'replicas';
    this.total = input.settings.autoscaled ? input.observed.stableReplicas : input.settings.replicas;
  }

  /** No release: the stable Deployment follows the spec, and any canary is drained and removed. */
  idle(template: 'keep' | 'desired'): ReleasePlan {
    const state: ReleaseState = { failedRevision: this.state.failedRevision };
    return {
      ...this.drain(),
      deploymentTemplate: template,
      state,
      released: {
        status: 'True',
        reason: 'Released',
        message: `Revision ${this.observed.stableRevision ?? this.revision} is stable`,
      },
    };
  }

  rolledBack(): ReleasePlan {
    const message = `Revision ${this.revision} was rolled back; ${this.observed.stableRevision} serves. Change the spec, or run kubectl msop retry, to release again`;
    return {
      ...this.drain(),
      deploymentTemplate: 'keep',
      state: { failedRevision: this.revision },
      phase: 'RolledBack',
      message,
      released: { status: 'False', reason: 'RolledBack', message },
    };
  }

  /** Promotion after the Deployment moved to the canary's revision: wait for it, shift back, remove the canary. */
  finishPromotion(): ReleasePlan {
    const base = {
      deploymentTemplate: 'desired' as const,
      stableReplicas: this.stableTarget(this.total),
      state: this.state,
      phase: 'Promoting' as const,
      released: { status: 'False' as const, reason: 'Promoting', message: `Promoting revision ${this.revision}` },
    };
    if (!this.observed.stableComplete) {
      return {
        ...base,
        canaryReplicas: this.observed.canary?.replicas,
        deleteCanaries: false,
        // Should the canary vanish before the Deployment is done, its share goes back to the stable Service.
        routerWeight: this.weighted ? (this.canaryReady() > 0 ? 100 : 0) : undefined,
        // No pod count here: the Deployment's moves as it claims the canary's pods, and status.ready has it.
        message: `Promoting ${this.revision}: waiting for the Deployment to roll out`,
        canaryWeight: this.promotionWeight(),
        events: this.events,
      };
    }
    if (this.weighted && this.observed.routerWeight !== 0 && this.observed.routerWeight !== undefined) {
      return {
        ...base,
        canaryReplicas: this.observed.canary?.replicas,
        deleteCanaries: false,
        routerWeight: 0,
        message: `Promoting ${this.revision}: moving traffic back to the stable Service`,
        canaryWeight: this.currentWeight(),
        events: this.events,
        requeueAfterMs: VERIFY_INTERVAL_MS,
      };
    }
    const done = this.observed.canary === undefined && this.observed.staleCanaries === 0;
    if (done) {
      this.events.push({ type: 'Normal', reason: 'Promoted', message: `Promoted revision ${this.revision} to stable` });
      return this.idle('desired');
    }
    return {
      ...base,
      deleteCanaries: true,
      routerWeight: this.weighted ? 0 : undefined,
      message: `Promoting ${this.revision}: removing the canary`,
      canaryWeight: 0,
      events: this.events,
    };
  }

  release(): ReleasePlan {
    const state = this.state;
    if (state.revision !== this.revision) {
      const replacing = state.revision ? `, replacing canary ${state.revision}` : '';
      this.events.push({
        type: 'Normal',
        reason: 'ReleaseStarted',
        message: `Started canary release of revision ${this.revision} (stable ${this.observed.stableRevision}${replacing})`,
      });
      Object.assign(state, {
        strategy: 'Canary',
        revision: this.revision,
        step: 0,
        stepStartTime: this.input.now.toISOString(),
        desiredWeight: 0,
      });
    }
    if (this.input.action === 'abort') return this.rollBack('Aborted', 'aborted on request (msop.dev/action: abort)');

    // A canary of an earlier revision must be gone before this one takes traffic: both would match the canary Service.
    if (this.observed.staleCanaries > 0) {
      return this.inRelease({
        ...this.drain(),
        message: `Removing the canary of an earlier revision before releasing ${this.revision}`,
      });
    }
    this.promoteAsAsked();
    if (this.settings.paused) return this.hold();
    this.resumeClock();
    const analysis = this.input.analysis;
    if (analysis?.action === 'Rollback')
      return this.rollBack('AnalysisFailed', `analysis failed: ${analysis.reason ?? ''}`);
    if (analysis?.action === 'Pause') {
      return this.inRelease({
        ...this.holdPlan(this.state.desiredWeight ?? 0),
        phase: 'Paused',
        message: `${this.stepLabel()}: analysis inconclusive (${analysis.reason ?? ''}); waiting for a passing check, or kubectl msop skip-analysis or abort`,
      });
    }
    // A step that completes hands over to the next one in the same plan: one status write and one reconcile
    // per step, not two. Not under analysis, whose verdict this reconcile holds is the finished step's.
    for (;;) {
      const at = this.step();
      const plan = this.planStep();
      if (this.step() === at || this.input.analysis) return plan;
      if (this.step() >= this.settings.steps.length) return this.announcePromotion();
    }
  }

  /**
   * The last step done: the plan of the promotion, but the stable template moves only on the next reconcile,
   * once status records every step done. That reconcile then finds its status already written.
   */
  private announcePromotion(): ReleasePlan {
    const plan = this.promote();
    if (plan.deploymentTemplate !== 'desired') return plan;
    return { ...plan, deploymentTemplate: 'keep', requeueAfterMs: 0 };
  }

  private planStep(): ReleasePlan {
    const step = this.settings.steps[this.step()];
    if (!step) return this.promote();
    switch (step.kind) {
      case 'setWeight':
        return this.setWeight(step.weight);
      case 'pause':
        return this.pause(step.durationMs);
      case 'mirror':
        return this.mirror(step);
      case 'match':
        return this.match();
    }
  }

  /**
   * promote continues past the current pause (a weight step is left to finish on its own: its pods and
   * checks still count); promote-full skips every step left.
   */
  private promoteAsAsked(): void {
    const action = this.input.action;
    const step = this.settings.steps[this.step()];
    if (action === 'promote' && (step?.kind === 'pause' || step?.kind === 'mirror')) {
      this.events.push({
        type: 'Normal',
        reason: 'PromoteRequested',
        message: `Continuing past step ${this.step() + 1}/${this.settings.steps.length} (${step.kind}) of ${this.revision} as asked`,
      });
      this.advanceTo(this.step() + 1);
    } else if (action === 'promote-full' && step !== undefined) {
      this.events.push({
        type: 'Normal',
        reason: 'PromoteRequested',
        message: `Skipping the remaining steps of ${this.revision} as asked`,
      });
      this.advanceTo(this.settings.steps.length);
    }
  }

  private setWeight(weight: number): ReleasePlan {
    const weightNow = Math.max(weight, this.state.desiredWeight ?? 0);
    this.state.desiredWeight = weightNow;
    const canaryTarget = Math.max(canaryReplicasFor(weightNow, this.total), this.matchPods());
    const canaryReady = this.canaryReady() >= canaryTarget;
    // Under the replicas router the stable shrinks only once the canary's new pods are ready (as Argo
    // Rollouts does), so capacity never dips while the canary scales up.
    const baselineTarget = this.settings.baseline ? canaryTarget : undefined;
    const baselineReady =
      baselineTarget === undefined || (this.observed.baseline?.readyReplicas ?? 0) >= baselineTarget;
    const shrunk = this.stableBeside(weightNow);
    const stableTarget = this.weighted
      ? this.stableTarget(this.total)
      : this.stableTarget(canaryReady && baselineReady ? shrunk : Math.max(this.observed.stableReplicas, shrunk));
    const ready =
      canaryReady && baselineReady && (stableTarget === undefined || this.observed.stablePods === stableTarget);
    const plan = { canaryReplicas: canaryTarget, baselineReplicas: baselineTarget, stableReplicas: stableTarget };
    if (weightNow > 0 && this.input.analysis && !this.input.analysis.preRolloutPassed) {
      // Under the replicas router a canary pod is traffic, so nothing scales before the pre-rollout webhooks pass.
      const held = this.weighted
        ? plan
        : {
            ...plan,
            canaryReplicas: 0,
            baselineReplicas: this.settings.baseline ? 0 : undefined,
            stableReplicas: this.stableTarget(this.total),
          };
      return this.inRelease({ ...held, message: `${this.stepLabel()}: waiting for the pre-rollout webhooks to pass` });
    }
    if (!ready) {
      return this.waitForCanary(canaryTarget, {
        ...plan,
        message: `${this.stepLabel()}: waiting for canary pods (${this.canaryReady()}/${canaryTarget} ready)`,
      });
    }
    this.state.podsWaitStartTime = undefined;
    // With no pods to split (N = 0) the canary has none to take traffic: the route stays at 0.
    const routed = canaryReplicasFor(weightNow, this.total) > 0 ? weightNow : 0;
    if (this.weighted && this.observed.routerWeight !== routed) {
      return this.inRelease({
        ...plan,
        routerWeight: routed,
        message: `${this.stepLabel()}: setting the route weight to ${routed}%`,
        requeueAfterMs: VERIFY_INTERVAL_MS,
      });
    }
    if (!this.analysisPassed()) {
      return this.inRelease({
        ...plan,
        routerWeight: this.weighted ? routed : undefined,
        message: `${this.stepLabel()}: waiting for a passing analysis check`,
      });
    }
    this.events.push({
      type: 'Normal',
      reason: 'StepCompleted',
      message: `Canary ${this.revision} at ${weightNow}% (step ${this.step() + 1}/${this.settings.steps.length})`,
    });
    this.advanceTo(this.step() + 1);
    return this.inRelease({
      ...plan,
      routerWeight: this.weighted ? routed : undefined,
      message: `Canary ${this.revision} at ${weightNow}%`,
      requeueAfterMs: 0,
    });
  }

  private pause(durationMs: number | undefined): ReleasePlan {
    const weight = this.state.desiredWeight ?? 0;
    const plan = { ...this.holdPlan(weight), ...this.keptWeight(weight) };
    if (durationMs === undefined) {
      return this.inRelease({
        ...plan,
        phase: 'Paused',
        message: `${this.stepLabel()}: waiting for promotion (kubectl msop promote, or the annotation msop.dev/action: promote)`,
      });
    }
    const left = durationMs - this.elapsed();
    if (left > 0) {
      return this.inRelease({
        ...plan,
        message: `${this.stepLabel()}: pausing, ${formatDuration(left)} left`,
        requeueAfterMs: left,
      });
    }
    if (!this.analysisPassed()) {
      return this.inRelease({ ...plan, message: `${this.stepLabel()}: waiting for a passing analysis check` });
    }
    this.events.push({
      type: 'Normal',
      reason: 'StepCompleted',
      message: `Canary ${this.revision} paused ${formatDuration(durationMs)} at ${weight}% (step ${this.step() + 1}/${this.settings.steps.length})`,
    });
    this.advanceTo(this.step() + 1);
    return this.inRelease({ ...plan, message: `Canary ${this.revision} at ${weight}%`, requeueAfterMs: 0 });
  }

  /**
   * A parallel run: the canary and a fresh baseline sized for the mirrored share, and the comparator,
   * all ready before the route mirrors to them; the run's duration counts from when the route mirrors.
   */
  private mirror(step: Extract<Step, { kind: 'mirror' }>): ReleasePlan {
    const weight = this.state.desiredWeight ?? 0;
    const size = Math.max(1, canaryReplicasFor(step.percent, this.total));
    const canaryTarget = Math.max(canaryReplicasFor(weight, this.total), this.matchPods(), size);
    const plan: Partial<ReleasePlan> = {
      canaryReplicas: canaryTarget,
      baselineReplicas: size,
      comparatorReplicas: 1,
      stableReplicas: this.stableTarget(this.total),
    };
    const baselineReady = this.observed.baseline?.readyReplicas ?? 0;
    const comparatorReady = this.observed.comparator?.readyReplicas ?? 0;
    if (this.canaryReady() < canaryTarget || baselineReady < size || comparatorReady < 1) {
      return this.waitForCanary(canaryTarget, {
        ...plan,
        message: `${this.stepLabel()}: waiting for the parallel run's pods (canary ${this.canaryReady()}/${canaryTarget}, baseline ${baselineReady}/${size}, comparator ${comparatorReady}/1 ready)`,
      });
    }
    this.state.podsWaitStartTime = undefined;
    const mirrored = { ...plan, mirrorPercent: step.percent };
    if (!this.observed.routeMirror) {
      // The run has not begun until the route mirrors: its duration, and the checks that count, start then.
      this.state.stepStartTime = this.input.now.toISOString();
      return this.inRelease({
        ...mirrored,
        message: `${this.stepLabel()}: mirroring ${step.percent}% of requests to the comparator`,
        requeueAfterMs: VERIFY_INTERVAL_MS,
      });
    }
    const left = step.durationMs - this.elapsed();
    if (left > 0) {
      return this.inRelease({
        ...mirrored,
        message: `${this.stepLabel()}: parallel run, ${formatDuration(left)} left`,
        requeueAfterMs: left,
      });
    }
    if (!this.analysisPassed())
      return this.inRelease({ ...mirrored, message: `${this.stepLabel()}: waiting for a passing analysis check` });
    this.events.push({
      type: 'Normal',
      reason: 'StepCompleted',
      message: `Canary ${this.revision} ran in parallel with the stable revision for ${formatDuration(step.durationMs)} (step ${this.step() + 1}/${this.settings.steps.length})`,
    });
    this.advanceTo(this.step() + 1);
    return this.inRelease({ ...plan, message: `Canary ${this.revision} at ${weight}%`, requeueAfterMs: 0 });
  }

  /** A match step: the canary has a pod, the route sends the matching requests to it, and a check passes. */
  private match(): ReleasePlan {
    const weight = this.state.desiredWeight ?? 0;
    const canaryTarget = Math.max(canaryReplicasFor(weight, this.total), this.matchPods());
    const plan = { canaryReplicas: canaryTarget, stableReplicas: this.stableTarget(this.total) };
    const matches = activeMatches(this.settings.steps, this.step());
    if (this.canaryReady() < canaryTarget) {
      return this.waitForCanary(canaryTarget, {
        ...plan,
        message: `${this.stepLabel()}: waiting for canary pods (${this.canaryReady()}/${canaryTarget} ready)`,
      });
    }
    this.state.podsWaitStartTime = undefined;
    const described = matches.map(describeMatch).join(' or ');
    if (!this.observed.routeMatches) {
      return this.inRelease({
        ...plan,
        message: `${this.stepLabel()}: routing requests with ${described} to the canary`,
        requeueAfterMs: VERIFY_INTERVAL_MS,
      });
    }
    if (!this.analysisPassed())
      return this.inRelease({ ...plan, message: `${this.stepLabel()}: waiting for a passing analysis check` });
    this.events.push({
      type: 'Normal',
      reason: 'StepCompleted',
      message: `Canary ${this.revision} gets requests with ${described} (step ${this.step() + 1}/${this.settings.steps.length})`,
    });
    this.advanceTo(this.step() + 1);
    return this.inRelease({ ...plan, message: `Canary ${this.revision} at ${weight}%`, requeueAfterMs: 0 });
  }

  /** The canary needs a pod for the requests match steps send it, whatever the weight. */
  private matchPods(): number {
    return activeMatches(this.settings.steps, this.step()).length > 0 ? 1 : 0;
  }

  /** The last steps of a promotion before the Deployment changes: the canary at full size and all traffic. */
  private promote(): ReleasePlan {
    if (this.input.analysis && !this.input.analysis.promotionConfirmed) {
      return this.inRelease({
        ...this.holdPlan(this.state.desiredWeight ?? 0),
        phase: 'Paused',
        message: `Canary ${this.revision}: waiting for the confirm-promotion webhooks`,
      });
    }
    const canaryTarget = Math.max(1, this.total);
    const plan = {
      canaryReplicas: canaryTarget,
      stableReplicas: this.weighted ? this.stableTarget(this.total) : this.stableTarget(this.observed.stableReplicas),
    };
    const released = { status: 'False' as const, reason: 'Promoting', message: `Promoting revision ${this.revision}` };
    if (this.canaryReady() < canaryTarget) {
      return this.waitForCanary(canaryTarget, {
        ...plan,
        phase: 'Promoting',
        released,
        message: `Promoting ${this.revision}: scaling the canary to ${canaryTarget} (${this.canaryReady()} ready)`,
      });
    }
    this.state.podsWaitStartTime = undefined;
    if (this.weighted && this.observed.routerWeight !== 100) {
      return this.inRelease({
        ...plan,
        phase: 'Promoting',
        released,
        routerWeight: 100,
        message: `Promoting ${this.revision}: sending all traffic to the canary`,
        requeueAfterMs: VERIFY_INTERVAL_MS,
      });
    }
    return this.inRelease({
      ...plan,
      routerWeight: this.weighted ? 100 : undefined,
      deploymentTemplate: 'desired',
      phase: 'Promoting',
      released,
      message: `Promoting ${this.revision}: updating the Deployment`,
    });
  }

  /** Waits for the canary's pods, or rolls back once the step has run past the progress deadline. */
  private waitForCanary(target: number, plan: Partial<ReleasePlan>): ReleasePlan {
    // Waiting for pods starts now, not when the step began: a gate or an analysis may have held the step long before.
    this.state.podsWaitStartTime ??= this.input.now.toISOString();
    const late = this.overDeadline();
    if (late) {
      return this.rollBack(
        'ProgressDeadlineExceeded',
        `canary ${this.revision} had ${this.canaryReady()}/${target} ready pods after ${late}`,
      );
    }
    return this.inRelease({ ...plan, requeueAfterMs: this.deadlineLeft() });
  }

  /** release.paused: everything stays where it is. */
  private hold(): ReleasePlan {
    // The step clock stops: neither the progress deadline nor a timed pause counts time spent paused.
    this.state.holdStartTime ??= this.input.now.toISOString();
    const weight = this.state.desiredWeight ?? 0;
    return this.inRelease({
      ...this.holdPlan(weight),
      phase: 'Paused',
      message: `${this.stepLabel()}: paused (spec.release.paused); set it to false to continue`,
    });
  }

  private holdPlan(weight: number): Partial<ReleasePlan> {
    const stable = this.weighted ? this.stableTarget(this.total) : this.stableTarget(this.stableBeside(weight));
    // The canary keeps its share of the total, so `kubectl scale` during a pause keeps the weight; once
    // promotion has scaled it to full size, it stays there.
    const promoting = this.step() >= this.settings.steps.length;
    const canary = promoting
      ? (this.observed.canary?.replicas ?? canaryReplicasFor(weight, this.total))
      : Math.max(canaryReplicasFor(weight, this.total), this.matchPods());
    return {
      canaryReplicas: canary,
      baselineReplicas: this.settings.baseline ? canary : undefined,
      stableReplicas: stable,
      // A hold never raises a weight, but takes it back from a canary that has no ready pod left.
      routerWeight: this.weighted && this.canaryReady() === 0 && (this.observed.routerWeight ?? 0) > 0 ? 0 : undefined,
    };
  }

  /**
   * A pause keeps the route at the weight its steps reached, once the canary has the pods for it: a route
   * that lost it (edited by hand, or a new route given mid-release) gets it back.
   */
  private keptWeight(weight: number): Partial<ReleasePlan> {
    const pods = canaryReplicasFor(weight, this.total);
    const due = this.weighted && pods > 0 && this.canaryReady() >= pods && this.observed.routerWeight !== weight;
    return due ? { routerWeight: weight } : {};
  }

  /** Stable pods beside a canary (and a baseline of its size) under the replicas router: never below 1. */
  private stableBeside(weight: number): number {
    if (!this.settings.baseline) return stableReplicasFor(weight, this.total);
    return Math.max(1, stableReplicasFor(weight, this.total) - canaryReplicasFor(weight, this.total));
  }

  private rollBack(reason: string, detail: string): ReleasePlan {
    const message = `Rolled back revision ${this.revision}: ${detail}`;
    this.events.push({ type: 'Warning', reason: 'RolledBack', message });
    this.state.failedRevision = this.revision;
    const plan = this.rolledBack();
    return { ...plan, message, released: { status: 'False', reason, message } };
  }

  /** Traffic back to the stable pods, then the canaries removed once nothing routes to them. */
  private drain(): Omit<ReleasePlan, 'deploymentTemplate' | 'state' | 'released'> {
    const anyCanary = this.observed.canary !== undefined || this.observed.staleCanaries > 0;
    // Under the replicas router the canary goes once the stable can carry the load again (or the canary serves nothing).
    const trafficLeft = this.weighted
      ? (this.observed.routerWeight ?? 0) === 0
      : this.canaryReady() === 0 ||
        this.observed.stableReadyReplicas >= Math.max(1, this.stableTarget(this.total) ?? this.observed.stableReplicas);
    return {
      stableReplicas: this.stableTarget(this.total),
      canaryReplicas: undefined,
      deleteCanaries: anyCanary && trafficLeft,
      routerWeight: this.weighted ? 0 : undefined,
      canaryWeight: this.currentWeight(),
      events: this.events,
      requeueAfterMs: anyCanary ? VERIFY_INTERVAL_MS : undefined,
    };
  }

  /**
   * A plan while the release runs. Before promotion, the match steps taken so far send their requests to
   * the canary once it has a ready pod, and a parallel run keeps its comparator (its counts stay
   * readable by later checks) until the release ends.
   */
  private inRelease(plan: Partial<ReleasePlan>): ReleasePlan {
    const { revision, state, events } = this;
    const { steps } = this.settings;
    const index = this.step();
    const running = index < steps.length;
    const matches = activeMatches(steps, index);
    return inReleasePlan(
      { revision, state, events, canaryWeight: this.currentWeight() },
      {
        ...(running && matches.length > 0 && this.canaryReady() > 0 ? { matches } : {}),
        ...(running && parallelRunStarted(steps, index) ? { comparatorReplicas: 1 } : {}),
        ...plan,
      },
    );
  }

  /** No analysis, or the latest check passed and came after the current step began. */
  private analysisPassed(): boolean {
    const analysis = this.input.analysis;
    if (!analysis) return true;
    // The latest check must agree too: a pass followed by a failed check does not advance the step.
    const passed = analysis.passedTime ? Date.parse(analysis.passedTime) : -Infinity;
    return (
      analysis.action === 'Continue' && passed > Date.parse(this.state.stepStartTime ?? this.input.now.toISOString())
    );
  }

  /** After a hold, the step continues with the time it had left: its start moves forward by the time held. */
  private resumeClock(): void {
    const held = this.state.holdStartTime;
    if (held === undefined) return;
    const shift = (time: string | undefined) =>
      time && new Date(Date.parse(time) + (this.now - Date.parse(held))).toISOString();
    this.state.stepStartTime = shift(this.state.stepStartTime ?? held);
    this.state.podsWaitStartTime = shift(this.state.podsWaitStartTime);
    this.state.holdStartTime = undefined;
  }

  private stableTarget(replicas: number): number | undefined {
    return this.settings.autoscaled ? undefined : replicas;
  }

  private step(): number {
    return this.state.step ?? 0;
  }

  private advanceTo(step: number): void {
    this.state.step = step;
    this.state.stepStartTime = this.input.now.toISOString();
    this.state.podsWaitStartTime = undefined;
  }

  private stepLabel(): string {
    return `Canary ${this.revision} at ${this.state.desiredWeight ?? 0}%, step ${Math.min(this.step() + 1, this.settings.steps.length)}/${this.settings.steps.length}`;
  }

  private canaryReady(): number {
    return this.observed.canary?.readyReplicas ?? 0;
  }

  /** Under the replicas router, the new revision's share of the ready pods, whichever set now holds them. */
  private promotionWeight(): number {
    const pods = this.observed.readyByRevision;
    return this.weighted || !pods ? this.currentWeight() : replicaWeight(pods.desired, pods.other);
  }

  private currentWeight(): number {
    if (this.weighted) return this.observed.routerWeight ?? 0;
    const others = this.observed.stableReadyReplicas + (this.observed.baseline?.readyReplicas ?? 0);
    return this.observed.canary ? replicaWeight(this.canaryReady(), others) : 0;
  }

  private elapsed(): number {
    return this.now - Date.parse(this.state.stepStartTime ?? this.input.now.toISOString());
  }

  private waited(): number {
    return this.now - Date.parse(this.state.podsWaitStartTime ?? this.input.now.toISOString());
  }

  /** How long the canary's pods have been waited for, once that is past the progress deadline. */
  private overDeadline(): string | undefined {
    return this.waited() > this.settings.progressDeadlineMs ? formatDuration(this.waited()) : undefined;
  }

  private deadlineLeft(): number {
    return Math.max(VERIFY_INTERVAL_MS, this.settings.progressDeadlineMs - this.waited());
  }
}
