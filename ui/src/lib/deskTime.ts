/**
 * Times of the desk (the last sync, the audit log, the outbox, conflicts) in the desk's own
 * time zone, with the zone named where it could be doubted. A resident's dates are not
 * these: they are the site's calendar days, which the core gives (`start_day`, `site_today`).
 */

const pad = (n: number) => String(n).padStart(2, '0');

/** `YYYY-MM-DD HH:MM[:SS]` of an ISO instant in the desk's zone (the instant as given when unreadable). */
export function deskTime(iso: string, { seconds = false, date = true } = {}): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const day = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}${seconds ? `:${pad(d.getSeconds())}` : ''}`;
  return date ? `${day} ${time}` : time;
}

/** The desk zone's short name at `iso` (or now): `PST`, `GMT+9`, `UTC`. */
export function deskZone(iso?: string): string {
  const d = iso ? new Date(iso) : new Date();
  const at = Number.isNaN(d.getTime()) ? new Date() : d;
  const part = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(at).find((p) => p.type === 'timeZoneName');
  return part?.value ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
}
