import type { V1ReplicaSet } from '@kubernetes/client-node';
import {
  adoptableReplicaSet,
  renderBaselineReplicaSet,
  renderCanaryReplicaSet,
  selectsAnyTrack,
} from '../../../src/render';
import { microservice, render } from './fixtures';

const rendered = render({ replicas: 3 });
const ms = microservice({ replicas: 3 });

test('the canary selects by revision, not track, so its pods can be relabelled stable at promotion', () => {
  const canary = renderCanaryReplicaSet(ms, rendered.template, rendered.revision, 2);
  expect(canary.spec?.selector).toEqual({
    matchLabels: { 'msop.dev/microservice': 'orders', 'msop.dev/revision': rendered.revision },
  });
  expect(canary.spec?.template?.metadata?.labels?.['msop.dev/track']).toBe('canary');
  expect(selectsAnyTrack(canary)).toBe(true);
});

test('the baseline keeps the track in its selector: it runs the stable revision beside the Deployment', () => {
  const baseline = renderBaselineReplicaSet(ms, rendered.template, 'old', 2);
  expect(baseline.spec?.selector?.matchLabels).toMatchObject({
    'msop.dev/track': 'baseline',
    'msop.dev/revision': 'old',
  });
  expect(selectsAnyTrack(baseline)).toBe(false);
});

test('a canary whose selector holds the track (made before this selector) cannot be handed over', () => {
  const canary = renderCanaryReplicaSet(ms, rendered.template, rendered.revision, 2);
  canary.spec!.selector = { matchLabels: { ...canary.spec!.selector!.matchLabels, 'msop.dev/track': 'canary' } };
  expect(selectsAnyTrack(canary)).toBe(false);
});

test('the adoptable ReplicaSet: stable labels, no owner, the live selector and replicas, the Deployment template', () => {
  const live: V1ReplicaSet = renderCanaryReplicaSet(ms, rendered.template, rendered.revision, 3);
  const adoptable = adoptableReplicaSet(live, ms, rendered.template, rendered.revision);
  expect(adoptable.metadata?.name).toBe(`orders-canary-${rendered.revision}`);
  expect(adoptable.metadata?.ownerReferences).toBeUndefined();
  expect(adoptable.metadata?.labels).toMatchObject({
    'msop.dev/track': 'stable',
    'msop.dev/revision': rendered.revision,
    'msop.dev/microservice': 'orders',
  });
  expect(adoptable.spec?.selector).toEqual(live.spec?.selector);
  expect(adoptable.spec?.replicas).toBe(3);
  // Equal to the Deployment's template: the Deployment controller takes it as its new ReplicaSet.
  const deployment = rendered.objects.find((o) => o.kind === 'Deployment') as { spec: { template: unknown } };
  expect(adoptable.spec?.template).toEqual(deployment.spec.template);
});
