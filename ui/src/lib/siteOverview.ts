// The Sites overview's pictures as numbers: where each part of a stacked bar starts and how
// wide it is, and the same numbers in words (the picture's text alternative). Display only:
// the counts are the core's (`site.overview`).
import type { ResidentsByStatus } from './api/bindings/ResidentsByStatus';
import type { SiteOverview } from './api/bindings/SiteOverview';
import { t } from './i18n/locale.svelte';
import { number } from './i18n/intl';

/** The parts of the residents bar, left to right. */
export const STATUS_PARTS = ['active', 'pending', 'suspended', 'scheduled', 'expired'] as const;
export type StatusPart = (typeof STATUS_PARTS)[number];

export interface Segment {
  part: StatusPart;
  count: number;
  /** Start and width, in percent of the bar. */
  x: number;
  width: number;
}

/** The non-empty parts of a site's residents bar (none when the site has no resident). */
export function statusSegments(r: ResidentsByStatus): Segment[] {
  const total = STATUS_PARTS.reduce((sum, p) => sum + r[p], 0);
  if (total === 0) return [];
  const out: Segment[] = [];
  let x = 0;
  for (const part of STATUS_PARTS) {
    const count = r[part];
    if (count === 0) continue;
    const width = (count * 100) / total;
    out.push({ part, count, x, width });
    x += width;
  }
  return out;
}

/** The residents bar in words: every part's count, and the total. */
export function statusText(o: SiteOverview): string {
  const r = o.residents;
  const total = STATUS_PARTS.reduce((sum, p) => sum + r[p], 0);
  if (total === 0) return t('sites.bar.empty', { site: o.name });
  const parts = STATUS_PARTS.filter((p) => r[p] > 0).map((p) => t(`sites.count.${p}`, { count: r[p] }));
  return t('sites.bar.text', { site: o.name, parts: parts.join(', '), total: number(total) });
}

/** The units bar in words. */
export function unitsText(o: SiteOverview): string {
  if (o.units === 0) return t('sites.units.none');
  return t('sites.units.text', { occupied: number(o.units_occupied), units: number(o.units), free: number(o.units - o.units_occupied) });
}
