// The resident fields as the UI shows them, derived from the core's `ResidentField` (generated
// from the Rust enum by ts-rs). `RESIDENT_FIELDS` is a record over every `ResidentField` and
// over every input of the resident form (`ResidentInput`), checked both ways by the compiler:
// a field added to the Rust enum or to the form's input fails `npm run check` until it is
// given its form input and label here.
import type { ResidentField } from './api/bindings/ResidentField';
import type { ResidentInput } from './api/bindings/ResidentInput';
import { t } from './i18n/locale.svelte';

/** An input of the resident form: a key of what the core reads to add a resident. */
export type FormField = keyof ResidentInput;

/** How the form shows one resident field. */
export interface FieldShape {
  /** The form's input for the field (`ResidentInput` key). */
  input: FormField;
  /** The label a person reads, in the current language (the catalog's `field.*`). */
  readonly label: string;
}

/** Every resident field (API name, as in errors, conflicts and CSV columns) → its form input and label. */
export const RESIDENT_FIELDS = {
  FirstName: { input: 'first_name', get label() { return t('field.FirstName'); } },
  LastName: { input: 'last_name', get label() { return t('field.LastName'); } },
  Email: { input: 'email', get label() { return t('field.Email'); } },
  PhoneNumber: { input: 'phone', get label() { return t('field.PhoneNumber'); } },
  Building: { input: 'building', get label() { return t('field.Building'); } },
  Floor: { input: 'floor', get label() { return t('field.Floor'); } },
  Unit: { input: 'unit', get label() { return t('field.Unit'); } },
  ActivationDateUTC: { input: 'start', get label() { return t('field.ActivationDateUTC'); } },
  DeactivationDateUTC: { input: 'end', get label() { return t('field.DeactivationDateUTC'); } },
} as const satisfies Record<ResidentField, FieldShape>;

/** Every resident field, in the core's order. */
export const RESIDENT_FIELD_NAMES = Object.keys(RESIDENT_FIELDS) as ResidentField[];

// Every input of the form is some resident field's input: `never` when complete, otherwise
// the missing input names (and then this line does not compile).
type UncoveredInput = Exclude<FormField, (typeof RESIDENT_FIELDS)[ResidentField]['input']>;
const everyInputCovered: [UncoveredInput] extends [never] ? true : UncoveredInput = true;
void everyInputCovered;

/** Whether a name (from an error, a conflict) is a resident field. */
export function isResidentField(name: string): name is ResidentField {
  return Object.prototype.hasOwnProperty.call(RESIDENT_FIELDS, name);
}

/** The form's inputs by their own names (`first_name`...), for names already in form terms. */
const INPUTS: ReadonlySet<string> = new Set(RESIDENT_FIELD_NAMES.map((f) => RESIDENT_FIELDS[f].input));

/** The form input a field name (API name such as `ActivationDateUTC`, or an input name such as `start`) belongs to. */
export function formField(name: string): FormField | undefined {
  if (isResidentField(name)) return RESIDENT_FIELDS[name].input;
  return INPUTS.has(name) ? (name as FormField) : undefined;
}

/** The label of a field name: the resident field's, or the name itself. */
export function fieldLabel(name: string): string {
  return isResidentField(name) ? RESIDENT_FIELDS[name].label : name;
}
