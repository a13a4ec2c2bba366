// API errors are mapped once, here; the rest of the code asks isNotFound() and friends.

export interface StatusBody {
  kind?: string;
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
}

export class ApiError extends Error {
  /** The API server's own message, without the request: what status and events quote. */
  readonly detail: string;

  constructor(
    readonly statusCode: number,
    readonly reason: string,
    message: string,
    options?: ErrorOptions & { detail?: string },
  ) {
    super(message, options);
    this.name = 'ApiError';
    this.detail = options?.detail ?? message;
  }

  static fromResponse(method: string, path: string, statusCode: number, body: string): ApiError {
    let status: StatusBody = {};
    try {
      status = (JSON.parse(body) as StatusBody | null) ?? {};
    } catch {
      // Not a Status object (a proxy error page, say): keep the raw text.
    }
    const detail = status.message ?? (body.trim() || `HTTP ${statusCode}`);
    return new ApiError(statusCode, status.reason ?? '', `${method} ${path}: ${detail}`, { detail });
  }
}

/** No answer came: the connection failed or timed out. The message names the server and the reason. */
export class UnreachableError extends Error {
  override name = 'UnreachableError';
}

/** A condition that needs a person: retrying alone will not fix it. */
export class TerminalError extends Error {
  constructor(
    readonly reason: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'TerminalError';
  }
}

const hasStatus = (err: unknown, code: number): boolean => err instanceof ApiError && err.statusCode === code;

export const isNotFound = (err: unknown): boolean => hasStatus(err, 404);
export const isConflict = (err: unknown): boolean => hasStatus(err, 409);
export const isGone = (err: unknown): boolean => hasStatus(err, 410);
export const isInvalid = (err: unknown): boolean => hasStatus(err, 422);
export const isForbidden = (err: unknown): boolean => hasStatus(err, 403);

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
