// The main statuses and markers the core gives each resident, in the order the legend and the
// filter list them, with each marker's icon (drawn beside its word, never alone).
import type { MainStatus, Marker } from './api';

export const MAIN_STATUSES: MainStatus[] = ['scheduled', 'active', 'suspended', 'ended'];
export const MARKERS: Marker[] = ['invitation_not_accepted', 'waiting_to_sync', 'in_conflict'];
export const MARKER_ICON: Record<Marker, string> = {
  invitation_not_accepted: '✉',
  waiting_to_sync: '⟳',
  in_conflict: '⚠',
};

/** The Residents status filter: a main status, or a marker. */
export type StatusFilter = MainStatus | Marker | '';

/** A saved view's status filter as it is now: views saved before issue #18 kept the remote's
 *  flags (current, expired, pending), read here as the main status or marker they meant;
 *  anything unknown is dropped (no filter), so an old view always loads. */
export function statusFilterOf(saved: string | undefined): StatusFilter {
  const old: Record<string, StatusFilter> = { current: 'active', expired: 'ended', pending: 'invitation_not_accepted' };
  if (!saved) return '';
  if (saved in old) return old[saved];
  return (MAIN_STATUSES as string[]).includes(saved) || (MARKERS as string[]).includes(saved) ? (saved as StatusFilter) : '';
}

/** The catalog key naming a status filter choice. */
export function statusFilterKey(f: MainStatus | Marker): `status.main.${MainStatus}` | `status.marker.${Marker}` {
  return (MAIN_STATUSES as string[]).includes(f) ? `status.main.${f as MainStatus}` : `status.marker.${f as Marker}`;
}

/** The core's filter for a status filter choice. */
export function statusFilterQuery(f: StatusFilter): { main: MainStatus[]; markers: Marker[] } {
  if (!f) return { main: [], markers: [] };
  return (MAIN_STATUSES as string[]).includes(f) ? { main: [f as MainStatus], markers: [] } : { main: [], markers: [f as Marker] };
}
