// Every failure of the analysis layer is one of these, so a caller can map each to a verdict
// (NoData, Error) and every message says what to do next.

/** A mistake in `spec.release.analysis`: retrying will not help, the spec must change. */
export class AnalysisConfigError extends Error {
  override name = 'AnalysisConfigError';
}

/** A `{{placeholder}}` the template language does not know, or a template name that does not exist. */
export class TemplateError extends Error {
  override name = 'TemplateError';
}

/** Base of every error that comes from talking to Prometheus. */
export class PrometheusError extends Error {
  override name = 'PrometheusError';
}

/** No HTTP answer at all: DNS, connection refused, TLS, or the timeout. */
export class PrometheusUnreachableError extends PrometheusError {
  override name = 'PrometheusUnreachableError';
  constructor(
    readonly address: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`Prometheus at ${address} is unreachable: ${detail}`, options);
  }
}

/** The request was sent but no answer came within the timeout. */
export class PrometheusTimeoutError extends PrometheusUnreachableError {
  override name = 'PrometheusTimeoutError';
  constructor(address: string, timeoutMs: number, options?: ErrorOptions) {
    super(
      address,
      `no answer within ${timeoutMs / 1000}s; raise prometheus.timeout or make the query cheaper`,
      options,
    );
  }
}

/** An HTTP answer that is not Prometheus's JSON: a proxy's 401, a wrong path's 404. */
export class PrometheusResponseError extends PrometheusError {
  override name = 'PrometheusResponseError';
  constructor(
    readonly address: string,
    readonly statusCode: number,
    body: string,
  ) {
    super(`Prometheus at ${address} answered HTTP ${statusCode}${hintFor(statusCode)}: ${snippet(body)}`);
  }
}

/** Prometheus refused or failed the query and said why (bad_data, execution, timeout …). */
export class PrometheusQueryError extends PrometheusError {
  override name = 'PrometheusQueryError';
  constructor(
    readonly errorType: string,
    readonly detail: string,
    readonly query: string,
  ) {
    super(`Prometheus rejected the query (${errorType}): ${detail}; query: ${query}`);
  }
}

/** The query matched nothing: a wrong label, or no traffic yet. */
export class NoDataError extends PrometheusError {
  override name = 'NoDataError';
  constructor(readonly query: string) {
    super(`no data: the query returned no series; check its labels, or wait for traffic; query: ${query}`);
  }
}

/** The query returned several series where one number (or one series) is needed. */
export class MultipleSeriesError extends PrometheusError {
  override name = 'MultipleSeriesError';
  constructor(
    readonly count: number,
    readonly query: string,
  ) {
    super(`the query returned ${count} series where one is needed; aggregate it, e.g. sum(...); query: ${query}`);
  }
}

/** NaN or ±Inf: most often 0/0, a ratio computed while there was no traffic. */
export class NaNError extends PrometheusError {
  override name = 'NaNError';
  constructor(
    readonly value: string,
    readonly query: string,
  ) {
    super(`the query returned ${value}, usually 0/0 because there was no traffic in the window; query: ${query}`);
  }
}

function hintFor(statusCode: number): string {
  if (statusCode === 401 || statusCode === 403) return ' (check the credentials in prometheus.authSecretRef)';
  if (statusCode === 404) return ' (check prometheus.address: the API is expected under <address>/api/v1/)';
  return '';
}

function snippet(body: string): string {
  const text = body.trim().replace(/\s+/g, ' ');
  if (text === '') return '(empty body)';
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
