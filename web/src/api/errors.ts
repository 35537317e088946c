import type { ErrorBody } from './types';

/** An error answer of the API, or a failure to reach it at all. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly fields: Record<string, string>;
  readonly details: Record<string, unknown>;

  constructor(status: number, body: ErrorBody | undefined, fallback: string) {
    super(body?.error.message ?? fallback);
    this.name = 'ApiError';
    this.status = status;
    this.code = body?.error.code ?? (status === 0 ? 'network' : 'unknown');
    this.details = (body?.error.details as Record<string, unknown> | null | undefined) ?? {};
    const fields = this.details.fields;
    this.fields = isStringMap(fields) ? fields : {};
  }

  /** The server could not be reached (no answer at all). */
  get isNetwork(): boolean {
    return this.status === 0;
  }
}

function isStringMap(v: unknown): v is Record<string, string> {
  return typeof v === 'object' && v !== null && Object.values(v).every((x) => typeof x === 'string');
}

/**
 * Turns the server's field path (`ip_addresses[1].ip`) into a form field
 * name (`ip_addresses.1.ip`).
 */
export function formFieldName(serverField: string): string {
  return serverField.replace(/\[(\d+)\]/g, '.$1');
}

/** Throws an ApiError for an error answer; returns the data otherwise. */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.error !== undefined || !result.response.ok) {
    throw new ApiError(result.response.status, result.error as ErrorBody | undefined, result.response.statusText);
  }
  return result.data as T;
}
