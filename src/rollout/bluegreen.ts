// The blue-green release planner, pure, with the same inputs and plan as the
// canary's. A new revision runs as a full-size preview beside the untouched
// stable Deployment; once its pods are ready, listed as endpoints and checked,
// and the release is promoted, all traffic switches to it at once. The old
// pods stay warm for scaleDownDelaySeconds, the analysis runs again on live
// traffic, and only then does the Deployment move to the new revision.
//
// Worked example, replicas 4, the replicas router (selector swap):
//   start     preview 4 (0 ready) · stable 4 · live Service → track=stable
//   ready     preview 4/4, 4 ready endpoints, analysis passed, promoted
//   switch    live Service → revision=new (the preview's pods); stable 4 still running
//   delay     scaleDownDelaySeconds on live traffic; a failed check switches back to track=stable
//   finish    Deployment → new template; its new pods match revision=new too
//   handback  live Service → track=stable (all new now); preview deleted; Promoted
import type { ReleaseEvent, ReleaseInput, ReleasePlan, ReleaseState } from './release';
import { formatDuration, inReleasePlan, VERIFY_INTERVAL_MS } from './plan-defaults';
import { dropUndefined } from './state';

export function planBlueGreen(input: ReleaseInput): ReleasePlan {
  const { observed, desiredRevision: revision, action } = input;
  let state: ReleaseState = { ...input.state };
  const events: ReleaseEvent[] = [];
  if (action === 'retry' && state.failedRevision === revision) {
    state = { ...state, failedRevision: undefined, rollbackTime: undefined };
    events.push({ type: 'Normal', reason: 'Retry', message: `Retrying revision ${revision} as asked` });
  }
  const plan = new BlueGreen(input, state, events);
  if (observed.stableRevision === undefined || input.strategy === 'Rolling') return plan.idle();
  if (state.failedRevision === revision) return plan.rolledBack();
  if (state.revision === revision && observed.stableRevision === revision) return plan.finish();
  if (observed.stableRevision === revision) return plan.idle();
  return plan.release();
}

class BlueGreen {
  private readonly revision: string;
  private readonly now: number;
  private readonly weighted: boolean;
  /** Pods of each stack: spec.replicas, or the stable's current replicas under an HPA. */
  private readonly total: number;

  constructor(
    private readonly input: ReleaseInput,
    private state: ReleaseState,
    private readonly events: ReleaseEvent[],
  ) {
    this.revision = input.desiredRevision;
    this.now = input.now.getTime();
    this.weighted = input.settings.router !== 'replicas';
    this.total = input.settings.autoscaled ? input.observed.stableReplicas : input.settings.replicas;
  }

  /** No release: traffic on the stable pods; previews removed once no traffic reaches them. */
  idle(): ReleasePlan {
    return {
      ...this.drain(),
      deploymentTemplate: 'desired',
      state: this.state.failedRevision ? { failedRevision: this.state.failedRevision } : {},
      released: {
        status: 'True',
        reason: 'Released',
        message: `Revision ${this.input.observed.stableRevision ?? this.revision} is stable`,
      },
    };
  }

  /** Rolled back: the stable serves; the preview stays abortScaleDownDelaySeconds for debugging, then goes. */
  rolledBack(): ReleasePlan {
    const message = `Revision ${this.revision} was rolled back; ${this.input.observed.stableRevision} serves. Change the spec, or run kubectl msop retry, to release again`;
    const since = this.state.rollbackTime ? this.now - Date.parse(this.state.rollbackTime) : Infinity;
    const left = (this.input.settings.blueGreen?.abortScaleDownDelayMs ?? 0) - since;
    const drain = this.drain();
    const keep = left > 0 && this.input.observed.canary !== undefined;
    return {
      ...drain,
      canaryReplicas: keep ? this.input.observed.canary!.replicas : undefined,
      requeueAfterMs: keep ? Math.max(VERIFY_INTERVAL_MS, left) : drain.requeueAfterMs,
      deploymentTemplate: 'keep',
      state: dropUndefined({
        strategy: 'BlueGreen' as const,
        failedRevision: this.revision,
        rollbackTime: keep ? this.state.rollbackTime : undefined,
      }),
      phase: 'RolledBack',
      message,
      released: { status: 'False', reason: 'RolledBack', message },
    };
  }

  release(): ReleasePlan {
    if (this.state.revision !== this.revision) this.start();
    if (this.input.action === 'abort') return this.rollBack('Aborted', 'aborted on request (msop.dev/action: abort)');
    const { observed } = this.input;
    // A preview of an earlier revision goes first, with traffic back on the stable pods if it had any.
    if (
      observed.staleCanaries > 0 ||
      (observed.liveRevision !== undefined && observed.liveRevision !== this.revision)
    ) {
      return this.inRelease({
        ...this.drain(),
        message: `Removing the preview of an earlier revision before releasing ${this.revision}`,
      });
    }
    if (this.state.switchTime === undefined && this.switched()) {
      // The switch was written (perhaps just before a restart); from now on the release counts from it.
      this.state = { ...this.state, switchTime: this.input.now.toISOString() };
      this.events.push({
        type: 'Normal',
        reason: 'Switched',
        message: `Switched all traffic to revision ${this.revision}; the pods of ${observed.stableRevision} stay for a fast switch back`,
      });
    }
    return this.state.switchTime === undefined ? this.prePromotion() : this.postPromotion();
  }

  /** The Deployment moved to the new revision: wait for it, hand traffic back to the stable selector, remove the preview. */
  finish(): ReleasePlan {
    const { observed } = this.input;
    const released = { status: 'False' as const, reason: 'Promoting', message: `Promoting revision ${this.revision}` };
    const base = {
      deploymentTemplate: 'desired' as const,
      stableReplicas: this.stableTarget(),
      phase: 'Promoting' as const,
      released,
    };
    if (!observed.stableComplete) {
      return this.inRelease({
        ...base,
        ...this.live(),
        canaryReplicas: observed.canary?.replicas,
        message: `Promoting ${this.revision}: waiting for the Deployment to roll out (${observed.stableReadyReplicas}/${this.total} ready)`,
      });
    }
    if (this.switched() && observed.canary !== undefined) {
      return this.inRelease({
        ...base,
        canaryReplicas: observed.canary.replicas,
        routerWeight: this.weighted ? 0 : undefined,
        message: `Promoting ${this.revision}: moving traffic to the stable pods, now on ${this.revision}`,
        requeueAfterMs: VERIFY_INTERVAL_MS,
      });
    }
    if (observed.canary === undefined && observed.staleCanaries === 0 && !this.switched()) {
      this.events.push({ type: 'Normal', reason: 'Promoted', message: `Promoted revision ${this.revision} to stable` });
      this.state = this.state.failedRevision ? { failedRevision: this.state.failedRevision } : {};
      return this.idle();
    }
    return this.inRelease({
      ...base,
      ...this.drain(),
      message: `Promoting ${this.revision}: removing the preview`,
    });
  }

  private start(): void {
    const replacing = this.state.revision ? `, replacing preview ${this.state.revision}` : '';
    this.events.push({
      type: 'Normal',
      reason: 'ReleaseStarted',
      message: `Started blue-green release of revision ${this.revision} (stable ${this.input.observed.stableRevision}${replacing})`,
    });
    this.state = dropUndefined({
      strategy: 'BlueGreen' as const,
      revision: this.revision,
      failedRevision: this.state.failedRevision,
      stepStartTime: this.input.now.toISOString(),
    });
  }

  /** Before the switch: the preview starts, gets ready, is checked, and waits to be promoted. */
  private prePromotion(): ReleasePlan {
    const settings = this.input.settings.blueGreen;
    const { observed, analysis } = this.input;
    if (this.input.settings.paused) return this.hold();
    this.resumeClock();
    this.recordPromotion();
    // A promotion is kept in status: the switch may have to wait for pods or endpoints past this reconcile.
    const promoting = this.state.promotion !== undefined;
    // The preview may start smaller, but it is at full size before it takes traffic.
    const target = this.readyTime() === undefined && !promoting ? this.previewTarget() : this.total;
    const size = {
      canaryReplicas: Math.max(target, observed.canary?.replicas ?? 0),
      stableReplicas: this.stableTarget(),
    };
    if (analysis?.action === 'Rollback')
      return this.rollBack('AnalysisFailed', `analysis of the preview failed: ${analysis.reason ?? ''}`);
    if (this.previewReady() < target) {
      return this.waitForPreview(target, {
        ...size,
        message: `Preview ${this.revision}: waiting for its pods (${this.previewReady()}/${target} ready)`,
      });
    }
    if (this.readyTime() === undefined) {
      this.events.push({
        type: 'Normal',
        reason: 'PreviewReady',
        message: `Preview ${this.revision} has all ${this.previewReady()} pods ready; test it through its -preview Service`,
      });
    }
    this.state = {
      ...this.state,
      podsWaitStartTime: undefined,
      previewReadyTime: this.readyTime() ?? this.input.now.toISOString(),
    };
    if (analysis && !analysis.preRolloutPassed)
      return this.inRelease({
        ...size,
        message: `Preview ${this.revision}: waiting for the pre-rollout webhooks to pass`,
      });
    if (analysis?.action === 'Pause') {
      return this.inRelease({
        ...size,
        phase: 'Paused',
        message: `Preview ${this.revision}: analysis inconclusive (${analysis.reason ?? ''}); waiting for a passing check, or kubectl msop skip-analysis or abort`,
      });
    }
    if (!this.passedSince(this.state.stepStartTime))
      return this.inRelease({ ...size, message: `Preview ${this.revision}: waiting for a passing analysis check` });
    const autoLeft =
      settings?.autoPromotionMs === undefined
        ? undefined
        : settings.autoPromotionMs - (this.now - Date.parse(this.readyTime()!));
    if (!promoting && (autoLeft === undefined || autoLeft > 0)) {
      return this.inRelease({
        ...size,
        phase: 'Paused',
        message:
          autoLeft === undefined
            ? `Preview ${this.revision} is ready behind its -preview Service: waiting for promotion (kubectl msop promote, or the annotation msop.dev/action: promote)`
            : `Preview ${this.revision} is ready: switching in ${formatDuration(autoLeft)}, or at kubectl msop promote`,
        requeueAfterMs: autoLeft,
      });
    }
    if (analysis && !analysis.promotionConfirmed) {
      return this.inRelease({
        ...size,
        phase: 'Paused',
        message: `Preview ${this.revision}: waiting for the confirm-promotion webhooks`,
      });
    }
    if (this.previewReady() < this.total) {
      return this.waitForPreview(this.total, {
        ...size,
        message: `Preview ${this.revision}: scaling to ${this.total} before the switch (${this.previewReady()} ready)`,
      });
    }
    // Switch only once the endpoints list every preview pod: kube-proxy routes by EndpointSlices, not by pod readiness.
    const endpoints = observed.previewEndpointsReady ?? 0;
    if (endpoints < this.total) {
      return this.inRelease({
        ...size,
        message: `Preview ${this.revision}: waiting for its endpoints (${endpoints}/${this.total} ready in the EndpointSlices)`,
        requeueAfterMs: VERIFY_INTERVAL_MS,
      });
    }
    return this.inRelease({
      ...size,
      ...this.live(),
      phase: 'Promoting',
      message: `Switching all traffic to preview ${this.revision}`,
      requeueAfterMs: VERIFY_INTERVAL_MS,
    });
  }

  /** After the switch: live traffic on the preview, the old pods warm until scaleDownDelaySeconds ends. */
  private postPromotion(): ReleasePlan {
    const { analysis } = this.input;
    const size = {
      ...this.live(),
      canaryReplicas: Math.max(this.total, this.input.observed.canary?.replicas ?? 0),
      stableReplicas: this.stableTarget(),
    };
    if (analysis?.action === 'Rollback')
      return this.rollBack('AnalysisFailed', `analysis on live traffic failed: ${analysis.reason ?? ''}`);
    if (this.input.settings.paused) return this.hold(size);
    this.resumeClock();
    this.recordPromotion();
    const delay = this.input.settings.blueGreen?.scaleDownDelayMs ?? 0;
    const left = this.state.promotion === 'PromoteFull' ? 0 : delay - (this.now - Date.parse(this.state.switchTime!));
    if (left > 0) {
      return this.inRelease({
        ...size,
        phase: 'Promoting',
        message: `Revision ${this.revision} serves all traffic; the pods of ${this.input.observed.stableRevision} stay ${formatDuration(left)} more for a fast switch back`,
        requeueAfterMs: left,
      });
    }
    if (analysis?.action === 'Pause' || !this.passedSince(this.state.switchTime)) {
      return this.inRelease({
        ...size,
        phase: analysis?.action === 'Pause' ? 'Paused' : 'Promoting',
        message: `Revision ${this.revision} serves all traffic: waiting for a passing analysis check on live traffic before the old pods go`,
      });
    }
    return this.inRelease({
      ...size,
      deploymentTemplate: 'desired',
      phase: 'Promoting',
      released: { status: 'False', reason: 'Promoting', message: `Promoting revision ${this.revision}` },
      message: `Promoting ${this.revision}: updating the Deployment`,
    });
  }

  /** promote before the switch, or promote-full at any time, is remembered in status until it is carried out. */
  private recordPromotion(): void {
    const action = this.input.action;
    const switched = this.state.switchTime !== undefined;
    const promotion =
      action === 'promote-full' ? 'PromoteFull' : action === 'promote' && !switched ? 'Promote' : undefined;
    if (!promotion || this.state.promotion === promotion) return;
    this.state = { ...this.state, promotion };
    this.events.push({
      type: 'Normal',
      reason: 'PromoteRequested',
      message:
        promotion === 'PromoteFull'
          ? `Promoting ${this.revision} as asked, without waiting for scaleDownDelaySeconds`
          : `Promoting preview ${this.revision} as asked`,
    });
  }

  private rollBack(reason: string, detail: string): ReleasePlan {
    const message = `Rolled back revision ${this.revision}: ${detail}`;
    this.events.push({ type: 'Warning', reason: 'RolledBack', message });
    this.state = { ...this.state, failedRevision: this.revision, rollbackTime: this.input.now.toISOString() };
    const plan = this.rolledBack();
    return { ...plan, message, released: { status: 'False', reason, message } };
  }

  /** release.paused: everything stays where it is, and the clocks stop. */
  private hold(size: Partial<ReleasePlan> = {}): ReleasePlan {
    this.state = { ...this.state, holdStartTime: this.state.holdStartTime ?? this.input.now.toISOString() };
    return this.inRelease({
      canaryReplicas: this.input.observed.canary?.replicas,
      stableReplicas: this.stableTarget(),
      ...size,
      phase: 'Paused',
      message: `Preview ${this.revision}: paused (spec.release.paused); set it to false to continue`,
    });
  }

  /** After a hold, the clocks continue with the time they had left. */
  private resumeClock(): void {
    const held = this.state.holdStartTime;
    if (held === undefined) return;
    const shift = (time: string | undefined) =>
      time && new Date(Date.parse(time) + (this.now - Date.parse(held))).toISOString();
    this.state = {
      ...this.state,
      holdStartTime: undefined,
      stepStartTime: shift(this.state.stepStartTime),
      podsWaitStartTime: shift(this.state.podsWaitStartTime),
      previewReadyTime: shift(this.state.previewReadyTime),
      switchTime: shift(this.state.switchTime),
    };
  }

  /** Waits for preview pods, or rolls back once they have been waited for past the progress deadline. */
  private waitForPreview(target: number, plan: Partial<ReleasePlan>): ReleasePlan {
    const since = this.state.podsWaitStartTime ?? this.input.now.toISOString();
    this.state = { ...this.state, podsWaitStartTime: since };
    const waited = this.now - Date.parse(since);
    const deadline = this.input.settings.progressDeadlineMs;
    if (waited > deadline) {
      return this.rollBack(
        'ProgressDeadlineExceeded',
        `preview ${this.revision} had ${this.previewReady()}/${target} ready pods after ${formatDuration(waited)}`,
      );
    }
    return this.inRelease({ ...plan, requeueAfterMs: Math.max(VERIFY_INTERVAL_MS, deadline - waited) });
  }

  /** Traffic on the stable pods; previews deleted once the observed route or selector has left them. */
  private drain(): Omit<ReleasePlan, 'deploymentTemplate' | 'state' | 'released'> {
    const { observed } = this.input;
    const any = observed.canary !== undefined || observed.staleCanaries > 0;
    const trafficLeft = this.weighted ? (observed.routerWeight ?? 0) === 0 : observed.liveRevision === undefined;
    return {
      stableReplicas: this.stableTarget(),
      canaryReplicas: undefined,
      deleteCanaries: any && trafficLeft,
      routerWeight: this.weighted ? 0 : undefined,
      liveRevision: undefined,
      canaryWeight: this.currentWeight(),
      events: this.events,
      requeueAfterMs: any ? VERIFY_INTERVAL_MS : undefined,
    };
  }

  private inRelease(plan: Partial<ReleasePlan>): ReleasePlan {
    const { revision, state, events } = this;
    return inReleasePlan({ revision, state, events, canaryWeight: this.currentWeight() }, plan);
  }

  /** Traffic on the preview: the live Service selects its revision, or the route gives it 100. */
  private live(): Partial<ReleasePlan> {
    return this.weighted ? { routerWeight: 100 } : { liveRevision: this.revision };
  }

  /** The data plane carries the preview now, as observed (not as planned). */
  private switched(): boolean {
    const { observed } = this.input;
    return this.weighted ? (observed.routerWeight ?? 0) > 0 : observed.liveRevision === this.revision;
  }

  private currentWeight(): number {
    const { observed } = this.input;
    if (this.weighted) return observed.routerWeight ?? 0;
    return observed.liveRevision !== undefined ? 100 : 0;
  }

  /** A check passed after `since` (always true without analysis). */
  private passedSince(since: string | undefined): boolean {
    const analysis = this.input.analysis;
    if (!analysis) return true;
    const passed = analysis.passedTime ? Date.parse(analysis.passedTime) : -Infinity;
    return analysis.action === 'Continue' && passed > Date.parse(since ?? this.input.now.toISOString());
  }

  private previewTarget(): number {
    return Math.min(this.total, this.input.settings.blueGreen?.previewReplicas ?? this.total);
  }

  private previewReady(): number {
    return this.input.observed.canary?.readyReplicas ?? 0;
  }

  private readyTime(): string | undefined {
    return this.state.previewReadyTime;
  }

  private stableTarget(): number | undefined {
    return this.input.settings.autoscaled ? undefined : this.total;
  }
}
