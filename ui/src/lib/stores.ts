// Application state shared by the screens. Only display logic lives here: what is allowed
// comes from the core (SessionInfo.gates, App::use_case_gates); every action is authorised
// again by Rust.
import { writable, get, type Readable } from 'svelte/store';
import { api, ApiError } from './api';
import type { FieldProblem } from './api/bindings/FieldProblem';
import { formField } from './residentFields';
import { createPresence } from './activity';
import { t } from './i18n/locale.svelte';
import { errorText, problemText, reasonText, refusalText } from './i18n/errors';
import { passProblemText } from './i18n/glossary';
import { time } from './i18n/intl';
import type { ResidentFilter } from './api/bindings/ResidentFilter';
import { MAIN_STATUSES } from './statusWords';
import type { ResidentView } from './api/bindings/ResidentView';
import { afterPaint, createUnfilteredCache, sameJson } from './unfilteredCache';
import type { SessionInfo } from './api/bindings/SessionInfo';

export const session = writable<SessionInfo | null>(null);

/** The email of the person whose session the core has locked (idle too long), or null: the
 * lock screen covers the app while it is set. The core decides; this only shows it. */
export const locked = writable<string | null>(null);

/** The window's presence (lib/activity.ts): reports keys and pointer to the core. */
export const presence = createPresence(() => {
  api.sessionActivity().catch(() => {});
});

/** The use cases the screens ask the core about, by their names in the core's table
 * (src/app/usecases.rs). Names only, no rule: a typo fails svelte-check, and a name the core
 * does not know fails `src-tauri/tests/ui_gates.rs`. `access.change` and `team.members` open
 * the Administration menu's access screens (Shell.svelte, issue #18). */
export const USE_CASES = [
  'site.list',
  'site.overview',
  'site.settings.edit',
  'resident.add',
  'resident.update',
  'resident.suspend',
  'resident.unsuspend',
  'resident.terminate',
  'resident.purge',
  'resident.invite',
  'resident.psk_reset',
  'resident.bulk',
  'resident.import',
  'resident.export',
  'staff.list',
  'staff.add',
  'role.list',
  'role.add',
  'role.remove',
  'job_function.add',
  'access.explain',
  'token.list',
  'token.create',
  'invite.list',
  'invite.create',
  'invite.resend',
  'invite.withdraw',
  'sync.run',
  'sync.config',
  'sync.configure',
  'outbox.list',
  'outbox.retry',
  'outbox.discard',
  'conflict.list',
  'conflict.resolve',
  'audit.list',
  'backup.list',
  'backup.create',
  'backup.settings',
  'backup.restore',
  'remote.check',
  'remote.link',
  'access.change',
  'team.members',
] as const;
export type UseCaseName = (typeof USE_CASES)[number];

/** The core's decision on one use case for the signed-in person. */
export interface Gate {
  allowed: boolean;
  reason: string;
}

/** The core's answer on the use case named `useCase` (`audit.list`, `staff.add`...), as it
 * came with the session: decided by the same code the use case runs, never from the level.
 * Closed when no one is signed in or the core gave no answer on that name. */
export function gate(info: SessionInfo | null, useCase: UseCaseName): Gate {
  if (!info) return { allowed: false, reason: t('gate.signInFirst') };
  const g = info.gates.find((x) => x.use_case === useCase);
  if (!g) return { allowed: false, reason: t('gate.unknownUseCase', { name: useCase }) };
  return { allowed: g.allowed, reason: g.allowed ? '' : refusalText(g.reason, g.details) };
}

/** Open when the core allows any of the use cases (a screen serving several); otherwise
 * closed with the first one's reason. */
export function anyGate(info: SessionInfo | null, ...useCases: UseCaseName[]): Gate {
  const gates = useCases.map((u) => gate(info, u));
  return gates.find((g) => g.allowed) ?? gates[0] ?? { allowed: false, reason: t('gate.nothingAsked') };
}

// ---- access-management gates -------------------------------------------------------------

import type { AccessAction } from './api/bindings/AccessAction';
import type { ActionGate } from './api/bindings/ActionGate';

/** The core's answers on the access-management actions (App::access_gates), per session. */
export const accessGates = writable<ActionGate[] | null>(null);

/** Asks the core again (after sign-in, a team switch, or a change of one's own rights). */
export async function loadAccessGates(fetch: () => Promise<ActionGate[]> = api.accessGates): Promise<void> {
  try {
    accessGates.set(await fetch());
  } catch (e) {
    accessGates.set([]);
    notices.push('error', () => errorText(e));
  }
}

/** The core's decision on one access-management action; closed until the core has answered. */
export function actionGate(gates: ActionGate[] | null, action: AccessAction): Gate {
  if (!gates) return { allowed: false, reason: t('gate.checking') };
  const g = gates.find((x) => x.action === action);
  if (!g) return { allowed: false, reason: t('gate.unknownAction', { name: action }) };
  return { allowed: g.allowed, reason: g.allowed ? '' : refusalText(g.reason, g.details) };
}

// ---- notices ---------------------------------------------------------------------------

// The notice stack lives in lib/notices.ts (how long each stays, how many).
import { notices } from './notices';
export { notices, type Notice } from './notices';

/** Whatever a command threw, as text for the person (i18n/errors.ts translates the core's codes). */
export { errorText };

// ---- residents -------------------------------------------------------------------------

export type SortKey = 'name' | 'email' | 'unit' | 'status' | 'start' | 'end';
export interface Sort {
  key: SortKey;
  dir: 'asc' | 'desc';
}

const collator = new Intl.Collator('en', { sensitivity: 'base', numeric: true });

function sortValue(r: ResidentView, key: SortKey): string {
  switch (key) {
    case 'name':
      return `${r.last_name} ${r.first_name}`;
    case 'email':
      return r.email;
    case 'unit':
      return `${r.building}\u0000${r.floor}\u0000${r.unit}`;
    case 'status':
      // The main statuses in their order (scheduled, active, suspended, ended), then markers.
      return `${MAIN_STATUSES.indexOf(r.main_status)}${r.markers.join(',')}`;
    case 'start':
      return r.activation_utc;
    case 'end':
      return r.deactivation_utc ?? '\uffff';
  }
}

/** A sorted copy (display order only). */
export function sortResidents(rows: readonly ResidentView[], sort: Sort): ResidentView[] {
  const sign = sort.dir === 'asc' ? 1 : -1;
  const keyed = rows.map((r) => [sortValue(r, sort.key), r] as const);
  const order = (a: (typeof keyed)[number], b: (typeof keyed)[number]) => sign * collator.compare(a[0], b[0]) || a[1].id - b[1].id;
  // The core answers in name order, so the screen's default sort usually finds the rows in
  // order already: one pass of n comparisons confirms it, where sorting takes n log n (a
  // cleared search field brings a whole site's rows at a keystroke). Same result either way.
  let sorted = true;
  for (let i = 1; sorted && i < keyed.length; i++) sorted = order(keyed[i - 1], keyed[i]) <= 0;
  if (!sorted) keyed.sort(order);
  return keyed.map(([, r]) => r);
}

export { formField } from './residentFields';

/** Field problems of an error keyed by resident form input (`first_name`...); problems about
 * no such input go under ''. */
export function problemsByField(e: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!(e instanceof ApiError)) return { '': errorText(e) };
  const problems: FieldProblem[] = e.problems;
  if (problems.length === 0) return { '': errorText(e) };
  for (const p of problems) {
    const key = formField(p.field) ?? '';
    const text = problemText(p);
    out[key] = out[key] ? `${out[key]}; ${text}` : text;
  }
  return out;
}

export interface ResidentsState {
  site: string | null;
  filter: ResidentFilter;
  rows: ResidentView[];
  loading: boolean;
  /** Whether the screen says "Loading…": the site's first answer is awaited, or a new
   * search's answer is still awaited after `SLOW_MS` (a keystroke's answer comes in a few
   * milliseconds: saying it at every keystroke would flash the count, repaint twice and make
   * a screen reader announce it each time). */
  slow: boolean;
  /** The search the rows answer (`null`: none yet, or no search). */
  answered: string | null;
  error: string | null;
  loadedMs: number | null;
}

/** How long a list may take before the screen says it is loading. */
export const SLOW_MS = 250;

type ListFn = (site: string, filter: ResidentFilter) => Promise<ResidentView[]>;

/** The resident list of one site; only the newest request's answer is kept (search as you type).
 * The answer without a search is kept in the page (lib/unfilteredCache.ts): clearing the
 * field shows it at once, and the core is asked again once that is painted; rows that differ from the
 * kept ones replace them (another frame only then), and a reload (the residents changed)
 * never uses it. */
export function createResidents(list: ListFn = api.residentList) {
  const store = writable<ResidentsState>({
    site: null,
    filter: { statuses: [], building: null, search: null, limit: null },
    rows: [],
    loading: false,
    slow: false,
    answered: null,
    error: null,
    loadedMs: null,
  });
  const cache = createUnfilteredCache();
  let ticket = 0;
  async function load(site: string, filter: ResidentFilter, fresh = false): Promise<void> {
    const mine = ++ticket;
    const started = performance.now();
    if (fresh) cache.clear();
    const kept = cache.get(site, filter);
    if (kept) {
      store.update((s) => ({ ...s, site, filter, rows: kept, loading: false, slow: false, answered: filter.search, error: null, loadedMs: performance.now() - started }));
    } else {
      // Another site's rows are not this one's: they go at once (a new search keeps the
      // rows on screen until its answer replaces them).
      store.update((s) => ({ ...s, site, filter, loading: true, error: null, ...(s.site === site ? {} : { rows: [], answered: null, slow: true }) }));
    }
    const slow = kept
      ? undefined
      : setTimeout(() => {
          if (mine === ticket) store.update((s) => (s.loading ? { ...s, slow: true } : s));
        }, SLOW_MS);
    try {
      if (kept) {
        await afterPaint();
        // A newer keystroke's answer is awaited: this one would be dropped anyway.
        if (mine !== ticket) return;
      }
      const rows = await list(site, filter);
      if (mine !== ticket) return;
      // The kept rows were right: nothing to draw again (the kept array stays, so the sorted
      // list is not even computed again).
      if (kept && sameJson(kept, rows)) return;
      cache.put(site, filter, rows);
      store.update((s) => ({ ...s, rows, loading: false, slow: false, answered: filter.search, loadedMs: performance.now() - started }));
    } catch (e) {
      cache.clear();
      if (mine !== ticket) return;
      store.update((s) => ({ ...s, rows: [], loading: false, slow: false, answered: filter.search, error: errorText(e) }));
    } finally {
      clearTimeout(slow);
    }
  }
  return {
    subscribe: store.subscribe as Readable<ResidentsState>['subscribe'],
    /** The list of `site` under `filter` (a new site, filter or search); `fresh`: asked of
     * the core even if kept (the screen is shown anew, and other screens may have changed
     * residents meanwhile, e.g. an import). */
    load: (site: string, filter: ResidentFilter, fresh = false) => load(site, filter, fresh),
    /** The same list again because the residents changed: asked of the core, never kept. */
    reload(): Promise<void> {
      const s = get(store);
      if (!s.site) {
        cache.clear();
        return Promise.resolve();
      }
      return load(s.site, s.filter, true);
    },
  };
}
export const residents = createResidents();

/** Calls `fn` once `ms` have passed without another call. */
export function debounce<A extends unknown[]>(fn: (...args: A) => void, ms: number): (...args: A) => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return (...args: A) => {
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

// ---- sync ------------------------------------------------------------------------------

import type { SyncStatus } from './api/bindings/SyncStatus';
import { deskZone } from './deskTime';

export interface SyncView {
  status: SyncStatus | null;
  /** Whether the remote and its service account are set up (the worker runs). */
  configured: boolean;
}

export const sync = writable<SyncView>({ status: null, configured: false });

/** Feeds `sync` from the worker's events and from reads of the status. A read answered
 * after a newer event keeps the event's status (the read may have left before the pass
 * ended), so the bar never falls back to an older state. */
export function syncFeed(target = sync) {
  let events = 0;
  return {
    event(status: SyncStatus) {
      events++;
      target.update((v) => ({ ...v, status }));
    },
    async read(load: () => Promise<{ status: SyncStatus; configured: boolean }>) {
      const seen = events;
      const { status, configured } = await load();
      target.update((v) => ({ status: events === seen ? status : v.status, configured }));
    },
  };
}

/** One line for the sync bar: what a person needs to know at a glance. */
/** A sync pass's phase (`push`, `poll`, `pull`) in words; another phase as the core names it. */
function phaseText(phase: string): string {
  return phase === 'push' ? t('sync.phase.push') : phase === 'poll' ? t('sync.phase.poll') : phase === 'pull' ? t('sync.phase.pull') : phase;
}

export function syncSummary(view: SyncView): {
  state: 'off' | 'online' | 'offline' | 'syncing';
  text: string;
  /** The last error, in full (the bar shows it on hover and in the Outbox). */
  detail?: string;
} {
  const s = view.status;
  if (!view.configured) {
    const waiting = s ? s.pending + s.rejected + s.conflict : 0;
    return { state: 'off', text: t('sync.notSetUp') + (waiting ? ` · ${t('sync.waiting', { count: waiting })}` : '') };
  }
  if (!s) return { state: 'online', text: t('sync.connecting') };
  const parts: string[] = [];
  if (s.pending + s.in_flight > 0) parts.push(t('sync.pending', { count: s.pending + s.in_flight }));
  if (s.rejected > 0) parts.push(t('sync.rejected', { count: s.rejected }));
  if (s.open_conflicts > 0) parts.push(t('sync.conflicts', { count: s.open_conflicts }));
  const last = s.last_pass_at ? t('sync.lastSync', { time: time(s.last_pass_at), zone: deskZone(s.last_pass_at) }) : t('sync.never');
  if (s.running) {
    const p = s.progress;
    return { state: 'syncing', text: p ? t('sync.syncingProgress', { phase: phaseText(p.phase), done: p.done, total: p.total }) : t('sync.syncing') };
  }
  if (s.last_error) return { state: 'offline', text: `${t('sync.offline')} · ${[...parts, last].join(' · ')}`, detail: s.last_problem ? passProblemText(s.last_problem, reasonText) : s.last_error };
  return { state: 'online', text: `${t('sync.online')} · ${[last, ...parts].join(' · ')}` };
}
