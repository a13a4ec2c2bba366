import type { V1ResourceRequirements } from '@kubernetes/client-node';
import { ConfigError, helpRequested, loadConfig, type OperatorConfig, usage } from '../../src/config';

/** Runs loadConfig and returns the ConfigError it throws. */
function configError(argv: string[], env: NodeJS.ProcessEnv = {}): ConfigError {
  try {
    loadConfig(argv, env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error(`loadConfig(${JSON.stringify(argv)}) did not throw`);
}

describe('loadConfig', () => {
  test('gives the defaults with no flags and no environment', () => {
    expect(loadConfig([], {})).toEqual({
      watchNamespaces: [],
      concurrency: 10,
      resyncSeconds: 600,
      logLevel: 'info',
      logFormat: 'json',
      defaultResources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
      leaderElect: false,
      leaderElectionId: 'msop-leader',
      healthPort: 8081,
      metricsPort: 8080,
      defaultRouter: 'replicas',
    });
  });

  test('ignores environment variables without the MSOP_ prefix', () => {
    expect(loadConfig([], { CONCURRENCY: '9', LOG_LEVEL: 'debug' })).toMatchObject({
      concurrency: 10,
      logLevel: 'info',
    });
  });

  test.each<[string, string, string, Partial<OperatorConfig>]>([
    ['watch-namespaces', 'MSOP_WATCH_NAMESPACES', 'shop', { watchNamespaces: ['shop'] }],
    ['concurrency', 'MSOP_CONCURRENCY', '8', { concurrency: 8 }],
    ['resync-seconds', 'MSOP_RESYNC_SECONDS', '60', { resyncSeconds: 60 }],
    ['log-level', 'MSOP_LOG_LEVEL', 'debug', { logLevel: 'debug' }],
    ['log-format', 'MSOP_LOG_FORMAT', 'pretty', { logFormat: 'pretty' }],
    ['shard-selector', 'MSOP_SHARD_SELECTOR', 'msop.dev/shard=b', { shardSelector: 'msop.dev/shard=b' }],
    ['leader-election-id', 'MSOP_LEADER_ELECTION_ID', 'msop-leader-b', { leaderElectionId: 'msop-leader-b' }],
    [
      'default-resources',
      'MSOP_DEFAULT_RESOURCES',
      '{"requests":{"cpu":"50m"}}',
      { defaultResources: { requests: { cpu: '50m' } } },
    ],
  ])('reads --%s and %s', (flag, envName, value, expected) => {
    expect(loadConfig([`--${flag}=${value}`], {})).toMatchObject(expected);
    expect(loadConfig([], { [envName]: value })).toMatchObject(expected);
  });

  test.each<[string, string, string, string, Partial<OperatorConfig>]>([
    ['watch-namespaces', 'MSOP_WATCH_NAMESPACES', 'shop', 'other', { watchNamespaces: ['shop'] }],
    ['concurrency', 'MSOP_CONCURRENCY', '2', '16', { concurrency: 2 }],
    ['resync-seconds', 'MSOP_RESYNC_SECONDS', '30', '90', { resyncSeconds: 30 }],
    ['log-level', 'MSOP_LOG_LEVEL', 'warn', 'trace', { logLevel: 'warn' }],
    ['log-format', 'MSOP_LOG_FORMAT', 'json', 'pretty', { logFormat: 'json' }],
    ['default-resources', 'MSOP_DEFAULT_RESOURCES', '{}', '{"limits":{"cpu":"1"}}', { defaultResources: {} }],
  ])('--%s wins over %s', (flag, envName, flagValue, envValue, expected) => {
    expect(loadConfig([`--${flag}=${flagValue}`], { [envName]: envValue })).toMatchObject(expected);
  });

  test('a later flag wins over an earlier one', () => {
    expect(loadConfig(['--concurrency=2', '--concurrency=3'], {}).concurrency).toBe(3);
  });

  test('keeps everything after the first = in a flag value', () => {
    const config = loadConfig(['--default-resources={"limits":{"memory":"1Gi"}}'], {});
    expect(config.defaultResources).toEqual({ limits: { memory: '1Gi' } });
  });

  test.each([
    ['msop.dev/shard=b', 'msop.dev/shard=b'],
    ['msop.dev/shard==b', 'msop.dev/shard==b'],
    ['!msop.dev/shard', '!msop.dev/shard'],
    ['msop.dev/shard notin (b,c)', 'msop.dev/shard notin (b,c)'],
    [' msop.dev/shard in (b, c) , team!=x ', 'msop.dev/shard in (b, c),team!=x'],
    ['', undefined],
  ])('accepts the shard selector %j', (value, expected) => {
    expect(loadConfig([`--shard-selector=${value}`], {}).shardSelector).toBe(expected);
  });

  test.each(['msop.dev/shard=b=c', 'msop.dev/shard in b', '=b', 'msop.dev/shard in (b', 'a,,b'])(
    'refuses the shard selector %j, naming the bad requirement',
    (value) => {
      expect(() => loadConfig([`--shard-selector=${value}`], {})).toThrow(/--shard-selector must be a label selector/);
    },
  );

  test('refuses a leader election id that is not a Lease name', () => {
    expect(() => loadConfig(['--leader-election-id=Not_A_Name'], {})).toThrow(
      /--leader-election-id must be a Lease name/,
    );
  });

  test.each<[string, string[]]>([
    ['shop', ['shop']],
    ['shop,payments', ['shop', 'payments']],
    [' shop , payments ', ['shop', 'payments']],
    ['shop,,payments,', ['shop', 'payments']],
    [',shop', ['shop']],
    ['', []],
    [',', []],
    [' , ', []],
  ])('parses the watch namespaces %j as %j', (value, expected) => {
    expect(loadConfig([`--watch-namespaces=${value}`], {}).watchNamespaces).toEqual(expected);
    expect(loadConfig([], { MSOP_WATCH_NAMESPACES: value }).watchNamespaces).toEqual(expected);
  });

  test.each(['trace', 'debug', 'info', 'warn', 'error', 'fatal'])('accepts log level %s', (level) => {
    expect(loadConfig([`--log-level=${level}`], {}).logLevel).toBe(level);
  });

  test.each<[string, string, number]>([
    ['concurrency', '1', 1],
    ['concurrency', '32', 32],
    ['resync-seconds', '3600', 3600],
    ['concurrency', '', 10],
    ['resync-seconds', '', 600],
  ])('reads --%s=%j as %i', (flag, value, expected) => {
    const config = loadConfig([`--${flag}=${value}`], {});
    expect(flag === 'concurrency' ? config.concurrency : config.resyncSeconds).toBe(expected);
  });

  test('takes the default resources for an empty --default-resources', () => {
    expect(loadConfig(['--default-resources='], {}).defaultResources).toEqual({
      requests: { cpu: '100m', memory: '128Mi' },
      limits: { memory: '256Mi' },
    });
  });

  describe('invalid values', () => {
    test.each<[string, string[], NodeJS.ProcessEnv, string]>([
      ['concurrency 0', ['--concurrency=0'], {}, '--concurrency must be a positive whole number, got "0"'],
      ['concurrency x', ['--concurrency=x'], {}, '--concurrency must be a positive whole number, got "x"'],
      ['negative concurrency', ['--concurrency=-2'], {}, '--concurrency must be a positive whole number, got "-2"'],
      ['fractional concurrency', ['--concurrency=1.5'], {}, '--concurrency must be a positive whole number, got "1.5"'],
      [
        'concurrency 0 from the environment',
        [],
        { MSOP_CONCURRENCY: '0' },
        '--concurrency must be a positive whole number',
      ],
      ['resync-seconds 0', ['--resync-seconds=0'], {}, '--resync-seconds must be a positive whole number, got "0"'],
      [
        'log-level verbose',
        ['--log-level=verbose'],
        {},
        '--log-level must be one of trace, debug, info, warn, error, fatal, got "verbose"',
      ],
      ['log-level in upper case', ['--log-level=INFO'], {}, '--log-level must be one of'],
      ['log-level from the environment', [], { MSOP_LOG_LEVEL: 'loud' }, '--log-level must be one of'],
      ['log-format text', ['--log-format=text'], {}, '--log-format must be json or pretty, got "text"'],
      [
        'default-resources bad JSON',
        ['--default-resources={cpu:1}'],
        {},
        '--default-resources must be JSON like {"requests":{"cpu":"100m","memory":"128Mi"},"limits":{"memory":"256Mi"}}: ',
      ],
      [
        'default-resources bad JSON from the environment',
        [],
        { MSOP_DEFAULT_RESOURCES: '{' },
        '--default-resources must be JSON',
      ],
      [
        'an argument without --',
        ['concurrency=4'],
        {},
        'Unexpected argument "concurrency=4": msop takes flags only (--name value or --name=value)',
      ],
      ['a flag without a value', ['--concurrency'], {}, "Option '--concurrency <value>' argument missing"],
      ['a flag whose value looks like a flag', ['--concurrency', '--leader-elect'], {}, 'argument is ambiguous'],
      ['a single-dash flag', ['-c=4'], {}, 'Unknown flag -c: msop --help lists the flags'],
      ['a flag in upper case', ['--Concurrency=4'], {}, 'Unknown flag --Concurrency'],
      ['an unknown flag', ['--leader-elected'], {}, 'Unknown flag --leader-elected'],
      ['a value after a boolean flag', ['--leader-elect', 'true'], {}, 'Unexpected argument "true"'],
      ['a boolean flag with a value it cannot take', ['--leader-elect=1'], {}, '--leader-elect must be true or false'],
    ])('rejects %s', (_name, argv, env, message) => {
      const err = configError(argv, env);
      expect(err).toBeInstanceOf(ConfigError);
      expect(err.name).toBe('ConfigError');
      expect(err.message).toContain(message);
    });

    test('rejects an invalid flag even when the environment holds a valid value', () => {
      expect(configError(['--log-format=xml'], { MSOP_LOG_FORMAT: 'json' }).message).toContain('--log-format');
    });

    test('lets a valid flag override an invalid environment value', () => {
      expect(loadConfig(['--concurrency=2'], { MSOP_CONCURRENCY: 'many' }).concurrency).toBe(2);
    });
  });
});

describe('loadConfig: leader election, endpoints and release defaults', () => {
  test.each<[string, string, string, Partial<OperatorConfig>]>([
    ['leader-elect', 'MSOP_LEADER_ELECT', 'false', { leaderElect: false }],
    [
      'leader-election-namespace',
      'MSOP_LEADER_ELECTION_NAMESPACE',
      'msop-system',
      { leaderElectionNamespace: 'msop-system' },
    ],
    ['health-port', 'MSOP_HEALTH_PORT', '9440', { healthPort: 9440 }],
    ['metrics-port', 'MSOP_METRICS_PORT', '9090', { metricsPort: 9090 }],
    [
      'prometheus-address',
      'MSOP_PROMETHEUS_ADDRESS',
      'http://prometheus.monitoring:9090',
      { prometheusAddress: 'http://prometheus.monitoring:9090' },
    ],
    [
      'prometheus-auth-secret',
      'MSOP_PROMETHEUS_AUTH_SECRET',
      'prom-token',
      { prometheusAuthSecret: { name: 'prom-token' } },
    ],
    ['default-router', 'MSOP_DEFAULT_ROUTER', 'gatewayAPI', { defaultRouter: 'gatewayAPI' }],
    ['default-analysis', 'MSOP_DEFAULT_ANALYSIS', '{"interval":"1m"}', { defaultAnalysis: { interval: '1m' } }],
  ])('reads --%s and %s', (flag, envName, value, expected) => {
    expect(loadConfig([`--${flag}=${value}`], {})).toMatchObject(expected);
    expect(loadConfig([], { [envName]: value })).toMatchObject(expected);
  });

  test('takes the Lease namespace from POD_NAMESPACE, and the flag over it', () => {
    expect(loadConfig(['--leader-elect=true'], { POD_NAMESPACE: 'msop-system' })).toMatchObject({
      leaderElect: true,
      leaderElectionNamespace: 'msop-system',
    });
    expect(
      loadConfig(['--leader-elect=true', '--leader-election-namespace=ops'], { POD_NAMESPACE: 'msop-system' })
        .leaderElectionNamespace,
    ).toBe('ops');
  });

  test.each(['replicas', 'gatewayAPI', 'istio', 'nginx'])('accepts the router %s', (router) => {
    expect(loadConfig([`--default-router=${router}`], {}).defaultRouter).toBe(router);
  });

  test.each<[string, { namespace?: string; name: string }]>([
    ['prom-token', { name: 'prom-token' }],
    ['monitoring/prom-token', { namespace: 'monitoring', name: 'prom-token' }],
    ['a.b-c', { name: 'a.b-c' }],
  ])('reads the Prometheus auth Secret %j', (value, expected) => {
    expect(loadConfig([`--prometheus-auth-secret=${value}`], {}).prometheusAuthSecret).toEqual(expected);
  });

  test('drops a trailing slash from the Prometheus address and accepts https', () => {
    expect(loadConfig(['--prometheus-address=https://prom.example:9090/'], {}).prometheusAddress).toBe(
      'https://prom.example:9090',
    );
  });

  test('accepts port 0 (any free port) for both endpoints', () => {
    expect(loadConfig(['--health-port=0', '--metrics-port=0'], {})).toMatchObject({ healthPort: 0, metricsPort: 0 });
  });

  test('leaves unset optional settings out of the config', () => {
    const config = loadConfig([], {});
    for (const key of ['leaderElectionNamespace', 'prometheusAddress', 'prometheusAuthSecret', 'defaultAnalysis'])
      expect(config).not.toHaveProperty(key);
  });

  test.each<[string, string[], NodeJS.ProcessEnv, string]>([
    ['leader-elect yes', ['--leader-elect=yes'], {}, '--leader-elect must be true or false, got "yes"'],
    [
      'leader election without a namespace',
      ['--leader-elect=true'],
      {},
      '--leader-elect=true needs the namespace of the Lease: set --leader-election-namespace or POD_NAMESPACE',
    ],
    [
      'a Lease namespace that is not a name',
      ['--leader-election-namespace=Msop_System'],
      {},
      '--leader-election-namespace must be a namespace name',
    ],
    ['health-port 70000', ['--health-port=70000'], {}, '--health-port must be a port number from 0 to 65535'],
    ['metrics-port x', ['--metrics-port=x'], {}, '--metrics-port must be a port number from 0 to 65535'],
    [
      'the same port twice',
      ['--health-port=9000', '--metrics-port=9000'],
      {},
      '--health-port and --metrics-port must differ, both are 9000',
    ],
    [
      'a Prometheus address without a scheme',
      ['--prometheus-address=prometheus:9090'],
      {},
      '--prometheus-address must be an http or https URL such as http://prometheus.monitoring:9090, got "prometheus:9090"',
    ],
    [
      'a Prometheus address that is no URL',
      ['--prometheus-address=not a url'],
      {},
      '--prometheus-address must be an http or https URL',
    ],
    [
      'a Secret name in upper case',
      ['--prometheus-auth-secret=Prom'],
      {},
      '--prometheus-auth-secret must be a Secret name, or namespace/name, got "Prom"',
    ],
    [
      'a Secret reference with two slashes',
      ['--prometheus-auth-secret=a/b/c'],
      {},
      '--prometheus-auth-secret must be a Secret name',
    ],
    [
      'an unknown router',
      ['--default-router=linkerd'],
      {},
      '--default-router must be one of replicas, gatewayAPI, istio, nginx, got "linkerd"',
    ],
    ['a router in the wrong case', [], { MSOP_DEFAULT_ROUTER: 'GatewayAPI' }, '--default-router must be one of'],
    [
      'default-analysis bad JSON',
      ['--default-analysis={interval:1m}'],
      {},
      '--default-analysis must be JSON like {"interval":"1m"',
    ],
    ['default-analysis an array', ['--default-analysis=[]'], {}, '--default-analysis must be a JSON object like'],
    ['default-analysis a string', ['--default-analysis="1m"'], {}, 'got "1m"'],
  ])('rejects %s', (_name, argv, env, message) => {
    expect(configError(argv, env).message).toContain(message);
  });
});

describe('loadConfig: flag forms', () => {
  test.each<[string, string[], Partial<OperatorConfig>]>([
    ['--name=value', ['--concurrency=8'], { concurrency: 8 }],
    ['--name value', ['--concurrency', '8'], { concurrency: 8 }],
    [
      'a JSON value after a space',
      ['--default-resources', '{"limits":{"cpu":"1"}}'],
      { defaultResources: { limits: { cpu: '1' } } },
    ],
    ['an empty value', ['--watch-namespaces='], { watchNamespaces: [] }],
    ['a bare boolean', ['--leader-elect', '--leader-election-namespace', 'ops'], { leaderElect: true }],
    ['--boolean=true', ['--leader-elect=true', '--leader-election-namespace=ops'], { leaderElect: true }],
    ['--boolean=false', ['--leader-elect=false'], { leaderElect: false }],
    ['--no-boolean', ['--no-leader-elect'], { leaderElect: false }],
    ['a later boolean over an earlier one', ['--leader-elect', '--no-leader-elect'], { leaderElect: false }],
    [
      'the forms mixed',
      ['--concurrency', '2', '--resync-seconds=30', '--log-level', 'debug'],
      { concurrency: 2, resyncSeconds: 30, logLevel: 'debug' },
    ],
  ])('reads %s', (_form, argv, expected) => {
    expect(loadConfig(argv, {})).toMatchObject(expected);
  });

  test('a bare boolean flag wins over the environment', () => {
    expect(loadConfig(['--no-leader-elect'], { MSOP_LEADER_ELECT: 'true' }).leaderElect).toBe(false);
    expect(loadConfig([], { MSOP_LEADER_ELECT: 'true', POD_NAMESPACE: 'ops' }).leaderElect).toBe(true);
  });

  test.each([[['--help']], [['-h']], [['--concurrency=2', '--help']], [['--unknown', '-h']]])(
    '%j asks for help',
    (argv) => {
      expect(helpRequested(argv)).toBe(true);
    },
  );

  test.each([[[]], [['--concurrency=2']], [['--log-level=help']]])('%j does not ask for help', (argv) => {
    expect(helpRequested(argv)).toBe(false);
  });

  test('--help lists every flag with its environment variable, and loadConfig accepts each one', () => {
    const text = usage();
    const flags = [...text.matchAll(/^ {2}--([a-z-]+)/gm)].map((m) => m[1]!);
    expect(flags).toEqual(
      expect.arrayContaining(['watch-namespaces', 'leader-elect', 'leader-election-id', 'default-resources']),
    );
    for (const flag of flags.filter((f) => f !== 'help')) {
      expect(text).toContain(`MSOP_${flag.toUpperCase().replaceAll('-', '_')}`);
      expect(() => loadConfig([`--${flag}=`], {})).not.toThrow(/Unknown flag/);
    }
  });
});

describe('loadConfig: --default-resources', () => {
  test.each<[string, string, V1ResourceRequirements]>([
    [
      'millicores and binary units',
      '{"requests":{"cpu":"100m","memory":"128Mi"}}',
      { requests: { cpu: '100m', memory: '128Mi' } },
    ],
    [
      'decimals and exponents',
      '{"requests":{"cpu":"0.5","memory":"1e9"},"limits":{"cpu":".5","memory":"1G"}}',
      { requests: { cpu: '0.5', memory: '1e9' }, limits: { cpu: '.5', memory: '1G' } },
    ],
    ['numbers', '{"limits":{"cpu":2}}', { limits: { cpu: 2 } as never }],
    ['extended resources', '{"limits":{"nvidia.com/gpu":"1"}}', { limits: { 'nvidia.com/gpu': '1' } }],
    ['an empty object', '{}', {}],
  ])('accepts %s', (_name, raw, expected) => {
    expect(loadConfig([`--default-resources=${raw}`], {}).defaultResources).toEqual(expected);
  });

  test.each<[string, string, string]>([
    [
      'a unit in lower case',
      '{"requests":{"memory":"128mi"}}',
      '--default-resources: requests.memory must be a quantity such as "100m", "0.5" or "128Mi", got "128mi"',
    ],
    ['a negative quantity', '{"requests":{"cpu":"-1"}}', 'requests.cpu must be a quantity'],
    ['a negative number', '{"limits":{"cpu":-1}}', 'limits.cpu must be a quantity'],
    ['a word', '{"limits":{"cpu":"lots"}}', 'got "lots"'],
    ['a nested object', '{"limits":{"cpu":{"value":1}}}', 'limits.cpu must be a quantity'],
    [
      'a misspelt section',
      '{"request":{"cpu":"1"}}',
      '--default-resources takes "requests" and "limits" only, got "request"',
    ],
    [
      'a section that is not an object',
      '{"limits":"1Gi"}',
      '--default-resources: limits must be an object like {"cpu":"100m"}',
    ],
    ['a list', '[]', '--default-resources must be a JSON object'],
  ])('refuses %s', (_name, raw, message) => {
    expect(configError([`--default-resources=${raw}`]).message).toContain(message);
    expect(configError([], { MSOP_DEFAULT_RESOURCES: raw }).message).toContain(message);
  });
});

describe('loadConfig: --leader-election-id', () => {
  test('names the Lease; msop-leader by default', () => {
    expect(loadConfig([], {}).leaderElectionId).toBe('msop-leader');
    expect(loadConfig(['--leader-election-id', 'shop-msop-leader'], {}).leaderElectionId).toBe('shop-msop-leader');
    expect(loadConfig([], { MSOP_LEADER_ELECTION_ID: 'b.leader' }).leaderElectionId).toBe('b.leader');
  });

  test.each(['Msop', 'msop_leader', '-msop', 'a'.repeat(254)])('refuses the Lease name %s', (name) => {
    expect(configError([`--leader-election-id=${name}`]).message).toContain(
      '--leader-election-id must be a Lease name',
    );
  });
});
