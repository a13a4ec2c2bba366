import type { V1PodTemplateSpec } from '@kubernetes/client-node';
import type { ReleaseState } from '../../../src/api/types';
import { stableTemplateOf, withStableTemplateKept } from '../../../src/rollout/state';

const template: V1PodTemplateSpec = {
  metadata: { labels: { 'msop.dev/revision': 'aaa', 'msop.dev/track': 'stable' } },
  spec: { containers: [{ name: 'app', image: 'ghcr.io/example/orders:1.0.0' }] },
};

describe('the stable pod template in the release state', () => {
  test('kept as a JSON string, and read back as the same template', () => {
    const state = withStableTemplateKept({ revision: 'bbb', step: 1 }, template);
    expect(typeof state.stablePodTemplate).toBe('string');
    expect(stableTemplateOf(state)).toEqual(template);
    expect(state).toMatchObject({ revision: 'bbb', step: 1 });
  });

  test('the same template in another key order makes the same string, so an unchanged state writes nothing', () => {
    const reordered: V1PodTemplateSpec = {
      spec: { containers: [{ image: 'ghcr.io/example/orders:1.0.0', name: 'app' }] },
      metadata: { labels: { 'msop.dev/track': 'stable', 'msop.dev/revision': 'aaa' } },
    };
    expect(withStableTemplateKept({}, reordered).stablePodTemplate).toBe(
      withStableTemplateKept({}, template).stablePodTemplate,
    );
  });

  test('none kept: both the string and an object from before are dropped', () => {
    const legacy = { revision: 'bbb', stableTemplate: template } as ReleaseState;
    const state = withStableTemplateKept({ ...legacy, stablePodTemplate: '{}' }, undefined);
    expect(state).toEqual({ revision: 'bbb' });
    expect(stableTemplateOf(state)).toBeUndefined();
  });

  test('a state written before the template was a string is read from its object, and rewritten as a string', () => {
    const legacy = { revision: 'bbb', stableTemplate: template } as ReleaseState;
    expect(stableTemplateOf(legacy)).toEqual(template);
    const rewritten = withStableTemplateKept(legacy, stableTemplateOf(legacy));
    expect(rewritten).toEqual({
      revision: 'bbb',
      stablePodTemplate: JSON.stringify(JSON.parse(rewritten.stablePodTemplate!)),
    });
    expect(stableTemplateOf(rewritten)).toEqual(template);
  });
});
