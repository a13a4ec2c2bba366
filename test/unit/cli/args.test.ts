import { parseArgs, type ParsedArgs } from '../../../src/cli/args';

const command = (fields: Partial<Extract<ParsedArgs, { kind: 'command' }>>): ParsedArgs =>
  ({
    kind: 'command',
    watch: false,
    ...fields,
  }) as ParsedArgs;
const error = (message: string): ParsedArgs => ({ kind: 'error', message });
const help: ParsedArgs = { kind: 'help' };

describe('parseArgs', () => {
  test.each<[string, string[], ParsedArgs]>([
    // Every command.
    ['promote', ['promote', 'orders'], command({ command: 'promote', name: 'orders' })],
    ['promote --full', ['promote', 'orders', '--full'], command({ command: 'promote', name: 'orders', full: true })],
    ['abort', ['abort', 'orders'], command({ command: 'abort', name: 'orders' })],
    ['retry', ['retry', 'orders'], command({ command: 'retry', name: 'orders' })],
    ['skip-analysis', ['skip-analysis', 'orders'], command({ command: 'skip-analysis', name: 'orders' })],
    ['pause', ['pause', 'orders'], command({ command: 'pause', name: 'orders' })],
    ['resume', ['resume', 'orders'], command({ command: 'resume', name: 'orders' })],
    ['status', ['status', 'orders'], command({ command: 'status', name: 'orders' })],
    // Namespace, context, kubeconfig: both spellings, before or after the command.
    ['-n NS', ['promote', 'orders', '-n', 'shop'], command({ command: 'promote', name: 'orders', namespace: 'shop' })],
    ['-nNS', ['promote', 'orders', '-nshop'], command({ command: 'promote', name: 'orders', namespace: 'shop' })],
    ['-n=NS', ['promote', 'orders', '-n=shop'], command({ command: 'promote', name: 'orders', namespace: 'shop' })],
    [
      '--namespace NS',
      ['abort', '--namespace', 'shop', 'orders'],
      command({ command: 'abort', name: 'orders', namespace: 'shop' }),
    ],
    [
      '--namespace=NS',
      ['abort', 'orders', '--namespace=shop'],
      command({ command: 'abort', name: 'orders', namespace: 'shop' }),
    ],
    [
      'flags first',
      ['-n', 'shop', 'status', 'orders'],
      command({ command: 'status', name: 'orders', namespace: 'shop' }),
    ],
    [
      '--context CTX',
      ['retry', 'orders', '--context', 'prod'],
      command({ command: 'retry', name: 'orders', context: 'prod' }),
    ],
    [
      '--context=CTX',
      ['retry', 'orders', '--context=prod'],
      command({ command: 'retry', name: 'orders', context: 'prod' }),
    ],
    [
      '--kubeconfig PATH',
      ['pause', 'orders', '--kubeconfig', '/tmp/kc'],
      command({ command: 'pause', name: 'orders', kubeconfig: '/tmp/kc' }),
    ],
    [
      'all flags',
      ['status', 'orders', '-n', 'shop', '--context', 'prod', '--watch'],
      command({ command: 'status', name: 'orders', namespace: 'shop', context: 'prod', watch: true }),
    ],
    // --watch.
    ['status --watch', ['status', 'orders', '--watch'], command({ command: 'status', name: 'orders', watch: true })],
    ['status -w', ['status', '-w', 'orders'], command({ command: 'status', name: 'orders', watch: true })],
    ['--watch only with status', ['promote', 'orders', '--watch'], error('--watch works only with status')],
    ['--full only with promote', ['abort', 'orders', '--full'], error('--full works only with promote')],
    // Help.
    ['no arguments', [], help],
    ['help', ['help'], help],
    ['--help', ['--help'], help],
    ['-h after a command', ['promote', 'orders', '-h'], help],
    // Errors.
    ['unknown command', ['frob', 'orders'], error('unknown command "frob"')],
    ['missing NAME', ['promote'], error("promote needs the Microservice's NAME")],
    ['missing NAME for status', ['status', '-n', 'shop'], error("status needs the Microservice's NAME")],
    ['extra argument', ['promote', 'orders', 'payments'], error('unexpected argument "payments"')],
    ['unknown flag', ['promote', 'orders', '--force'], error('unknown flag --force')],
    ['-n without a value', ['promote', 'orders', '-n'], error('flag -n needs a value')],
    ['-n followed by a flag', ['promote', 'orders', '-n', '--watch'], error('flag -n needs a value')],
    ['--context= empty', ['promote', 'orders', '--context='], error('flag --context needs a value')],
  ])('%s', (_title, argv, expected) => {
    expect(parseArgs(argv)).toEqual(expected);
  });

  test('a NAME after -- may start with a dash', () => {
    expect(parseArgs(['status', '--', '-odd'])).toEqual(command({ command: 'status', name: '-odd' }));
  });
});
