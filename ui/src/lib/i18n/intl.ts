//! Dates, times, numbers and sizes as the person's locale writes them, in one place. A
//! function that shows a moment takes the time zone it is shown in (`undefined` = the desk's
//! own zone); which zone a screen uses is the screen's choice, not this module's.
import { locale } from './locale.svelte';
import { cachedDateTimeFormat, cachedNumberFormat } from './intlCache';

/** A moment (ISO 8601) as a date and time, in `zone`; with the seconds when `seconds`. */
export function dateTime(iso: string, zone?: string, seconds = false): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return cachedDateTimeFormat(locale(), { dateStyle: 'medium', timeStyle: seconds ? 'medium' : 'short', timeZone: zone }).format(d);
}

/** A moment (ISO 8601) as a date only, in `zone`. */
export function date(iso: string, zone?: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return cachedDateTimeFormat(locale(), { dateStyle: 'medium', timeZone: zone }).format(d);
}

/** A calendar day (`YYYY-MM-DD`, a site's day as the core gives it) in the locale's words:
 *  read and written at UTC midnight, so no zone can move it to another day. */
export function day(isoDay: string): string {
  const d = new Date(`${isoDay}T00:00:00Z`);
  if (Number.isNaN(d.getTime())) return isoDay;
  return cachedDateTimeFormat(locale(), { dateStyle: 'medium', timeZone: 'UTC' }).format(d);
}

/** A moment as a time of day (hours and minutes), in `zone`. */
export function time(iso: string, zone?: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return cachedDateTimeFormat(locale(), { timeStyle: 'short', timeZone: zone }).format(d);
}

/** A number with the locale's grouping and decimal signs. */
export function number(n: number, maximumFractionDigits = 0): string {
  return cachedNumberFormat(locale(), { maximumFractionDigits }).format(n);
}

/** A file size in bytes, in binary units (KiB, MiB, GiB). */
export function bytes(n: number): string {
  const units: [number, string][] = [
    [1 << 30, 'GiB'],
    [1 << 20, 'MiB'],
    [1 << 10, 'KiB'],
  ];
  for (const [size, unit] of units) if (n >= size) return `${number(n / size, 1)} ${unit}`;
  return `${number(n)} B`;
}
