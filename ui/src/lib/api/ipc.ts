// The one module that talks to the Tauri shell. Every command goes through `call`, which
// turns a rejected invoke into an `ApiError` carrying the core's `{code, message, details}`.
import { invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import type { AppError } from './bindings/AppError';
import type { ErrorCode } from './bindings/ErrorCode';
import type { JsonValue } from './bindings/serde_json/JsonValue';

const CODES: readonly ErrorCode[] = [
  'usage',
  'unauthenticated',
  'permission_denied',
  'invalid_input',
  'not_found',
  'conflict',
  'internal',
];

/** One problem with one form field, as the core reports it in `details.problems`. */
export interface FieldProblem {
  field: string;
  message: string;
}

/** An error of a command: the core's error, unchanged. */
export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly details: JsonValue | undefined;

  constructor(error: AppError) {
    super(error.message);
    this.name = 'ApiError';
    this.code = error.code;
    this.details = error.details ?? undefined;
  }

  /** The field the error is about (`details.field`), if any. */
  get field(): string | undefined {
    const d = this.details;
    if (d && typeof d === 'object' && !Array.isArray(d)) {
      const f = d['field'];
      return typeof f === 'string' ? f : undefined;
    }
    return undefined;
  }

  /** Every field problem (`details.problems`), or the one `details.field` with the message. */
  get problems(): FieldProblem[] {
    const d = this.details;
    if (d && typeof d === 'object' && !Array.isArray(d)) {
      const list = d['problems'];
      if (Array.isArray(list)) {
        const out: FieldProblem[] = [];
        for (const p of list) {
          if (p && typeof p === 'object' && !Array.isArray(p)) {
            const field = p['field'];
            const message = p['message'];
            if (typeof field === 'string' && typeof message === 'string') out.push({ field, message });
          }
        }
        if (out.length > 0) return out;
      }
    }
    const field = this.field;
    return field ? [{ field, message: this.message }] : [];
  }
}

function isAppError(value: unknown): value is AppError {
  if (!value || typeof value !== 'object') return false;
  const v = value as { code?: unknown; message?: unknown };
  return typeof v.message === 'string' && typeof v.code === 'string' && (CODES as readonly string[]).includes(v.code);
}

/** Turns whatever an invoke rejected with into an `ApiError`. */
export function toApiError(reason: unknown): ApiError {
  if (reason instanceof ApiError) return reason;
  if (isAppError(reason)) return new ApiError(reason);
  const message = reason instanceof Error ? reason.message : typeof reason === 'string' ? reason : 'unknown error';
  return new ApiError({ code: 'internal', message, details: null });
}

export type Args = Record<string, unknown>;

let sessionEnded: (() => void) | null = null;

/** Who to tell when the core ends the session (`unauthenticated`: the account or membership
 * was disabled, the token revoked): the app goes back to the sign-in screen. */
export function onSessionEnded(handler: (() => void) | null): void {
  sessionEnded = handler;
}

/** Calls one command of the shell. */
export async function call<T>(command: string, args: Args = {}): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (reason) {
    const error = toApiError(reason);
    if (error.code === 'unauthenticated') sessionEnded?.();
    throw error;
  }
}

/** Subscribes to an event of the shell; resolves to the function that unsubscribes. */
export async function subscribe<T>(event: string, handler: (payload: T) => void): Promise<() => void> {
  return listen<T>(event, (e) => handler(e.payload));
}
