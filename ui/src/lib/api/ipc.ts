// The one module that talks to the Tauri shell. Every command goes through `call`, which
// turns a rejected invoke into an `ApiError` carrying the core's `{code, message, details}`.
import { invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import type { AppError } from './bindings/AppError';
import type { ErrorCode } from './bindings/ErrorCode';
import type { ErrorDetails } from './bindings/ErrorDetails';
import type { ErrorField } from './bindings/ErrorField';
import type { ErrorReason } from './bindings/ErrorReason';
import type { FieldProblem } from './bindings/FieldProblem';
import type { RuleError } from './bindings/RuleError';

export type { ErrorDetails, ErrorField, ErrorReason, FieldProblem, RuleError };

const CODES: readonly ErrorCode[] = [
  'usage',
  'unauthenticated',
  'permission_denied',
  'invalid_input',
  'not_found',
  'conflict',
  'internal',
];

/** An error of a command: the core's error, unchanged, with its typed details. */
export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetails | undefined;

  constructor(error: AppError) {
    super(error.message);
    this.name = 'ApiError';
    this.code = error.code;
    this.details = error.details ?? undefined;
  }

  /** The field the error is about (`details.field`: a resident field or another input), if any. */
  get field(): ErrorField | undefined {
    return this.details?.field;
  }

  /** Why (`details.reason`), when an edge acts on it (e.g. `sync_busy`). */
  get reason(): ErrorReason | undefined {
    return this.details?.reason;
  }

  /** The rule broken (`details.rule` and its parameters), if a rule said no. */
  get rule(): RuleError | undefined {
    const d = this.details;
    return d?.rule !== undefined ? d : undefined;
  }

  /** Every field problem (`details.problems`), or the one `details.field` with the message. */
  get problems(): FieldProblem[] {
    const listed = this.details?.problems;
    if (listed && listed.length > 0) return listed;
    const field = this.field;
    if (field === undefined) return [];
    const rule = this.rule;
    return [rule ? { field, message: this.message, rule } : { field, message: this.message }];
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
  return new ApiError({ code: 'internal', message });
}

export type Args = Record<string, unknown>;

let sessionEnded: (() => void) | null = null;
let sessionLocked: (() => void) | null = null;

/** Who to tell when the core ends the session (`unauthenticated`: the account or membership
 * was disabled, the token revoked): the app goes back to the sign-in screen. */
export function onSessionEnded(handler: (() => void) | null): void {
  sessionEnded = handler;
}

/** Who to tell when the core refuses a call because the session is locked after its idle
 * minutes (`unauthenticated` with the reason `session_locked`): the lock screen covers the
 * app, which stays as it was beneath. */
export function onSessionLocked(handler: (() => void) | null): void {
  sessionLocked = handler;
}

/** Calls one command of the shell. */
export async function call<T>(command: string, args: Args = {}): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (reason) {
    const error = toApiError(reason);
    // A refused sign-in (a wrong password at the sign-in or the lock screen) answers the
    // person who typed it; it ends no session, and the lock screen must stay over the app.
    if (error.code === 'unauthenticated' && command !== 'sign_in') {
      if (error.reason === 'session_locked') sessionLocked?.();
      else sessionEnded?.();
    }
    throw error;
  }
}

/** Subscribes to an event of the shell; resolves to the function that unsubscribes. */
export async function subscribe<T>(event: string, handler: (payload: T) => void): Promise<() => void> {
  return listen<T>(event, (e) => handler(e.payload));
}
