// Argument parsing for `kubectl msop`, pure: argv in, a command or an error out.
// kubectl passes every argument after `kubectl msop` to the plugin unchanged,
// so the plugin parses -n/--namespace and --context itself.

export const ACTION_COMMANDS = ['promote', 'abort', 'retry', 'skip-analysis'] as const;
export type ActionCommand = (typeof ACTION_COMMANDS)[number];
export const COMMANDS = [...ACTION_COMMANDS, 'pause', 'resume', 'status', 'explain'] as const;
export type CommandName = (typeof COMMANDS)[number];

export interface CommandArgs {
  kind: 'command';
  command: CommandName;
  name: string;
  /** -n/--namespace; undefined means the kubeconfig context's namespace, else "default". */
  namespace?: string;
  /** --context; undefined means the kubeconfig's current context. */
  context?: string;
  /** --kubeconfig; undefined means $KUBECONFIG or ~/.kube/config. */
  kubeconfig?: string;
  /** status --watch. */
  watch: boolean;
  /** promote --full: skip every step left (msop.dev/action: promote-full). */
  full?: boolean;
}

export type ParsedArgs = CommandArgs | { kind: 'help' } | { kind: 'error'; message: string };

export const USAGE = `kubectl msop: drive msop canary and blue-green releases, and explain what applies

Usage:
  kubectl msop <command> NAME [-n NAMESPACE] [--context CONTEXT]

Commands:
  status NAME [-w|--watch]  Show the phase, revisions, steps, weights, replicas and conditions;
                            --watch redraws on every change until Ctrl-C
  promote NAME [--full]     Continue past the current pause (msop.dev/action: promote); a BlueGreen preview
                            switches now. --full skips every step left and promotes (promote-full); for
                            BlueGreen it also skips the wait of scaleDownDelaySeconds after the switch
  abort NAME                Roll the canary back to the stable revision (msop.dev/action: abort)
  retry NAME                Release a rolled-back revision again (msop.dev/action: retry)
  skip-analysis NAME        Pass the current analysis without waiting (msop.dev/action: skip-analysis)
  pause NAME                Hold the release where it is (spec.release.paused: true)
  resume NAME               Continue a paused release (spec.release.paused: false)
  explain NAME              Print the effective spec, field by field, and where each value came from:
                            the Microservice, its Environment, the operator (flags, Helm values) or built-in
  help                      Show this text

Flags:
  -n, --namespace NAMESPACE  The Microservice's namespace (default: the context's namespace, else "default")
      --context CONTEXT      The kubeconfig context to use (default: the current context)
      --kubeconfig PATH      The kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)
  -w, --watch                With status: redraw on every change
      --full                 With promote: skip every step left
  -h, --help                 Show this text

Examples:
  kubectl msop status orders -n shop --watch
  kubectl msop promote orders -n shop
`;

const VALUE_FLAGS: Record<string, 'namespace' | 'context' | 'kubeconfig'> = {
  '-n': 'namespace',
  '--namespace': 'namespace',
  '--context': 'context',
  '--kubeconfig': 'kubeconfig',
};

const isCommand = (word: string): word is CommandName => (COMMANDS as readonly string[]).includes(word);

/** Parses the arguments after the plugin name (process.argv.slice(2)). */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const positional: string[] = [];
  const values: Partial<Record<'namespace' | 'context' | 'kubeconfig', string>> = {};
  let watch = false;
  let full = false;
  let help = false;

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '-h' || arg === '--help') {
      help = true;
      continue;
    }
    if (arg === '-w' || arg === '--watch') {
      watch = true;
      continue;
    }
    if (arg === '--full') {
      full = true;
      continue;
    }
    const eq = arg.indexOf('=');
    const flag = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const key = VALUE_FLAGS[flag];
    if (key) {
      let value: string | undefined;
      if (flag !== arg) value = arg.slice(eq + 1);
      else if (i + 1 < argv.length) value = argv[++i];
      if (value === undefined || value === '' || (flag === arg && value.startsWith('-'))) {
        return { kind: 'error', message: `flag ${flag} needs a value` };
      }
      values[key] = value;
      continue;
    }
    // -nshop, as kubectl accepts it.
    if (arg.startsWith('-n') && !arg.startsWith('--') && arg.length > 2) {
      values.namespace = arg.slice(2).replace(/^=/, '');
      continue;
    }
    if (arg.startsWith('-') && arg !== '-') return { kind: 'error', message: `unknown flag ${arg}` };
    positional.push(arg);
  }

  const [command, name, ...extra] = positional;
  if (help || command === undefined || command === 'help') return { kind: 'help' };
  if (!isCommand(command)) return { kind: 'error', message: `unknown command "${command}"` };
  if (name === undefined || name === '') return { kind: 'error', message: `${command} needs the Microservice's NAME` };
  if (extra.length > 0) return { kind: 'error', message: `unexpected argument "${extra[0]}"` };
  if (watch && command !== 'status') return { kind: 'error', message: `--watch works only with status` };
  if (full && command !== 'promote') return { kind: 'error', message: `--full works only with promote` };
  return { kind: 'command', command, name, ...values, watch, ...(full ? { full } : {}) };
}
