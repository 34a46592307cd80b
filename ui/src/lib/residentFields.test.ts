import { describe, it, expect } from 'vitest';
import { RESIDENT_FIELDS, RESIDENT_FIELD_NAMES, fieldLabel, formField, isResidentField } from './residentFields';
import type { ResidentField } from './api/bindings/ResidentField';

describe('resident fields', () => {
  it('lists every resident field once, in the core order, each with its own form input', () => {
    const expected: ResidentField[] = [
      'FirstName',
      'LastName',
      'Email',
      'PhoneNumber',
      'Building',
      'Floor',
      'Unit',
      'ActivationDateUTC',
      'DeactivationDateUTC',
    ];
    expect(RESIDENT_FIELD_NAMES).toEqual(expected);
    const inputs = RESIDENT_FIELD_NAMES.map((f) => RESIDENT_FIELDS[f].input);
    expect(new Set(inputs).size).toBe(inputs.length);
  });

  it('tells resident fields from other inputs', () => {
    expect(isResidentField('Unit')).toBe(true);
    expect(isResidentField('unit')).toBe(false);
    expect(isResidentField('toString')).toBe(false);
    expect(formField('PhoneNumber')).toBe('phone');
    expect(fieldLabel('ActivationDateUTC')).toBe('Access start');
    expect(fieldLabel('keep')).toBe('keep');
  });
});
