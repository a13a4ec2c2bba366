import {
  type Condition,
  type ConditionInput,
  findCondition,
  isConditionTrue,
  removeCondition,
  setCondition,
} from '../../../src/controller/conditions';

const T1 = '2025-01-01T00:00:00.000Z';
const T2 = '2025-01-01T00:05:00.000Z';

const ready: Condition = {
  type: 'Ready',
  status: 'False',
  observedGeneration: 1,
  lastTransitionTime: T1,
  reason: 'Progressing',
  message: 'Rolling out',
};
const reconciling: Condition = {
  type: 'Reconciling',
  status: 'True',
  observedGeneration: 1,
  lastTransitionTime: T1,
  reason: 'Progressing',
  message: 'Rolling out',
};

describe('setCondition', () => {
  test.each<[string, Partial<ConditionInput>]>([
    ['nothing else', {}],
    ['the reason', { reason: 'RetryingAfterError' }],
    ['the message', { message: 'Rolling out 2/3' }],
    ['the observedGeneration', { observedGeneration: 2 }],
    ['all three', { reason: 'Paused', message: 'Paused', observedGeneration: 3 }],
  ])('keeps lastTransitionTime when the status is unchanged (changed: %s)', (_name, change) => {
    const [updated] = setCondition([ready], { ...ready, ...change }, T2);
    expect(updated).toEqual({ ...ready, ...change, lastTransitionTime: T1 });
  });

  test.each<[Condition['status'], Condition['status']]>([
    ['False', 'True'],
    ['True', 'False'],
    ['False', 'Unknown'],
    ['Unknown', 'True'],
  ])('moves lastTransitionTime when the status goes from %s to %s', (from, to) => {
    const [updated] = setCondition([{ ...ready, status: from }], { ...ready, status: to }, T2);
    expect(updated?.status).toBe(to);
    expect(updated?.lastTransitionTime).toBe(T2);
  });

  test('adds a missing condition at the end, with now as lastTransitionTime', () => {
    const input: ConditionInput = { type: 'Stalled', status: 'True', reason: 'InvalidSpec', message: 'bad' };
    const updated = setCondition([ready, reconciling], input, T2);
    expect(updated.map((c) => c.type)).toEqual(['Ready', 'Reconciling', 'Stalled']);
    expect(updated[2]).toEqual({ ...input, lastTransitionTime: T2 });
  });

  test('adds to an empty list', () => {
    const updated = setCondition([], { type: 'Ready', status: 'True', reason: 'Succeeded', message: 'ok' }, T1);
    expect(updated).toEqual([
      { type: 'Ready', status: 'True', reason: 'Succeeded', message: 'ok', lastTransitionTime: T1 },
    ]);
  });

  test('replaces a condition in place and leaves the others alone', () => {
    const updated = setCondition([ready, reconciling], { ...ready, status: 'True', reason: 'Succeeded' }, T2);
    expect(updated.map((c) => c.type)).toEqual(['Ready', 'Reconciling']);
    expect(updated[1]).toBe(reconciling);
    expect(updated[0]).toMatchObject({ status: 'True', reason: 'Succeeded', lastTransitionTime: T2 });
  });

  test('does not change the list it was given', () => {
    const conditions = [ready];
    setCondition(conditions, { ...ready, status: 'True' }, T2);
    setCondition(conditions, { ...reconciling }, T2);
    expect(conditions).toEqual([ready]);
    expect(ready.status).toBe('False');
  });

  test('drops a lastTransitionTime passed in with the input', () => {
    const input = { ...ready, status: 'True', lastTransitionTime: '1999-01-01T00:00:00Z' } as ConditionInput;
    const [updated] = setCondition([ready], input, T2);
    expect(updated?.lastTransitionTime).toBe(T2);
  });
});

describe('removeCondition', () => {
  test.each([
    ['removes the condition of that type', [ready, reconciling], 'Reconciling', ['Ready']],
    ['keeps the list when the type is absent', [ready, reconciling], 'Stalled', ['Ready', 'Reconciling']],
    ['gives an empty list from an empty list', [], 'Ready', []],
  ])('%s', (_name, conditions, type, expected) => {
    expect(removeCondition(conditions, type).map((c) => c.type)).toEqual(expected);
  });

  test('does not change the list it was given', () => {
    const conditions = [ready, reconciling];
    removeCondition(conditions, 'Ready');
    expect(conditions).toEqual([ready, reconciling]);
  });
});

describe('findCondition and isConditionTrue', () => {
  test.each<[string, Condition[] | undefined, string, Condition | undefined, boolean]>([
    ['a True condition', [ready, reconciling], 'Reconciling', reconciling, true],
    ['a False condition', [ready, reconciling], 'Ready', ready, false],
    ['an Unknown condition', [{ ...ready, status: 'Unknown' }], 'Ready', { ...ready, status: 'Unknown' }, false],
    ['an absent type', [ready], 'Stalled', undefined, false],
    ['an empty list', [], 'Ready', undefined, false],
    ['no list', undefined, 'Ready', undefined, false],
  ])('%s', (_name, conditions, type, found, isTrue) => {
    expect(findCondition(conditions, type)).toEqual(found);
    expect(isConditionTrue(conditions, type)).toBe(isTrue);
  });

  test('matches the type exactly', () => {
    expect(findCondition([ready], 'ready')).toBeUndefined();
  });
});
