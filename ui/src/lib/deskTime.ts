/**
 * The desk's own time zone, named where a time of the desk (the last sync, the audit log, the
 * outbox, conflicts) could be doubted. The times themselves are formatted by i18n/intl.ts in
 * the desk's zone (no zone given) and the person's locale. A resident's dates are not these:
 * they are the site's calendar days, which the core gives (`start_day`, `site_today`).
 */

import { cachedDateTimeFormat } from './i18n/intlCache';

/** The desk zone's short name at `iso` (or now): `PST`, `GMT+9`, `UTC`. */
export function deskZone(iso?: string): string {
  const d = iso ? new Date(iso) : new Date();
  const at = Number.isNaN(d.getTime()) ? new Date() : d;
  const part = cachedDateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(at).find((p) => p.type === 'timeZoneName');
  return part?.value ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
}
