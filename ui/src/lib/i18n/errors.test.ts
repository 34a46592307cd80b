import { describe, it, expect, afterEach } from 'vitest';
import { ApiError } from '../api/ipc';
import { errorText, problemText } from './errors';
import { setLocaleChoice } from './locale.svelte';
import type { ErrorReason } from '../api/bindings/ErrorReason';
import { en } from './en';

afterEach(() => setLocaleChoice('en', false));

describe("the core's errors in the person's language", () => {
  it('says an error with a reason code from the catalog, with its parameters', () => {
    const busy = new ApiError({ code: 'internal', message: 'a sync is running…', details: { reason: 'sync_busy', holder: 'desk-2', since: '2026-11-30T14:05:00Z' } });
    expect(errorText(busy)).toMatch(/^A sync is running on this database \(since .+, by desk-2\)/);
    setLocaleChoice('es', false);
    expect(errorText(busy)).toMatch(/^Hay una sincronización en curso en esta base de datos \(desde las .+, por desk-2\)/);
    const ambiguous = new ApiError({ code: 'invalid_input', message: 'x', details: { reason: 'ambiguous', candidates: ['North', 'Northgate'] } });
    expect(errorText(ambiguous)).toBe('Ese nombre coincide con varios: North, Northgate. Sea más preciso, por favor.');
  });

  it('says a broken rule with its parameters and the field as the form labels it', () => {
    setLocaleChoice('es', false);
    const occupied = new ApiError({ code: 'invalid_input', message: 'Unit 4B is already occupied…', details: { field: 'Unit', rule: 'unit_occupied', unit: '4B', occupant: 'ana@example.test' } });
    expect(errorText(occupied)).toBe('La unidad 4B ya está ocupada en estas fechas por ana@example.test.');
    expect(problemText({ field: 'FirstName', message: 'FirstName is required', rule: { rule: 'required', field: 'FirstName' } })).toBe('Nombre es obligatorio.');
  });

  it("keeps the core's English text for an error without a code", () => {
    setLocaleChoice('es', false);
    expect(errorText(new ApiError({ code: 'unauthenticated', message: 'wrong email or password' }))).toBe('wrong email or password');
  });

  it('has a message for every reason code the core sends', () => {
    const reasons: ErrorReason[] = ['backup_refused', 'backup_not_written', 'sync_busy', 'permission_missing', 'ambiguous', 'assumptions_contradicted', 'db_busy', 'key_missing', 'key_wrong', 'keyring_failed', 'session_locked', 'password_change_required', 'password_expired', 'db_damaged'];
    for (const reason of reasons) {
      const text = errorText(new ApiError({ code: 'internal', message: 'core text', details: { reason } }));
      expect(text, reason).not.toBe('core text');
      expect(Object.values(en)).toContain(en[`error.reason.${reason}` as keyof typeof en]);
    }
  });
});
