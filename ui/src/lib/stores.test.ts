import { describe, it, expect, vi } from 'vitest';
import { get } from 'svelte/store';

vi.mock('@tauri-apps/api/core', () => ({ invoke: vi.fn() }));

const { gate, anyGate, sortResidents, problemsByField, formField, createResidents, SLOW_MS, debounce, syncSummary, syncFeed, accessGates, loadAccessGates, actionGate, notices } =
  await import('./stores');
import type { SyncStatus } from './api/bindings/SyncStatus';
const { ApiError } = await import('./api');
import type { ResidentView } from './api/bindings/ResidentView';
import type { SessionInfo } from './api/bindings/SessionInfo';
import type { ResidentFilter } from './api/bindings/ResidentFilter';
import { noticeText } from './notices';

function resident(id: number, first: string, last: string, unit: string, status: ResidentView['status']): ResidentView {
  return {
    id,
    site_id: 1,
    remote_id: null,
    first_name: first,
    last_name: last,
    email: `${first.toLowerCase()}@x.test`,
    phone: '',
    building: 'A',
    floor: '1',
    unit,
    activation_utc: '2026-01-01T00:00:00Z',
    deactivation_utc: null,
    onboarded_at: null,
    suspended: false,
    invited_at: null,
    ssid: null,
    service_area: null,
    created_at: '2026-01-01T00:00:00Z',
    updated_at: '2026-01-01T00:00:00Z',
    status,
    main_status: status.includes('expired') ? 'ended' : status.includes('scheduled') ? 'scheduled' : status.includes('suspended') ? 'suspended' : 'active',
    markers: status.includes('pending') ? ['invitation_not_accepted'] : [],
    site_name: 'Maple Court',
    time_zone: 'America/Chicago',
    start_day: '2025-12-31',
    start_time: '18:00',
    end_day: null,
    end_time: null,
  };
}

// A Staff user holding the auditor add-on role: the core allows the audit log although the
// level alone would not, and refuses staff.list.
const staffAuditor: SessionInfo = {
  staff_id: 5,
  email: 'staff@x.test',
  is_owner: false,
  team_id: 1,
  team_name: 'Riverside',
  level: 'staff_user',
  level_title: 'Staff user',
  gates: [
    { use_case: 'resident.add', allowed: true, reason: '' },
    { use_case: 'audit.list', allowed: true, reason: '' },
    { use_case: 'staff.list', allowed: false, reason: 'denied: Staff users cannot manage staff users (at team Riverside)' },
    { use_case: 'staff.add', allowed: false, reason: 'denied: Staff users cannot manage staff users (at team Riverside)' },
  ],
};

describe('gate', () => {
  it("answers from the core's gate of the use case, not from the level", () => {
    expect(gate(staffAuditor, 'audit.list')).toEqual({ allowed: true, reason: '' });
    expect(gate(staffAuditor, 'resident.add').allowed).toBe(true);
    // The same level without the add-on: the core says no, and so does the UI.
    const plain = { ...staffAuditor, gates: staffAuditor.gates.map((g) => (g.use_case === 'audit.list' ? { ...g, allowed: false, reason: 'denied: Staff users cannot read the audit log (at team Riverside)' } : g)) };
    expect(gate(plain, 'audit.list')).toEqual({ allowed: false, reason: 'Staff users cannot read the audit log (at team Riverside)' });
    // A Team administrator whose gate is closed stays closed: the level is only a label.
    const admin = { ...plain, level: 'team_admin' as const, level_title: 'Team administrator' };
    expect(gate(admin, 'audit.list').allowed).toBe(false);
  });
  it("shows the core's reason without its 'denied:' prefix", () => {
    expect(gate(staffAuditor, 'staff.list')).toEqual({ allowed: false, reason: 'Staff users cannot manage staff users (at team Riverside)' });
  });
  it('stays closed when no one is signed in or the core gave no answer', () => {
    expect(gate(null, 'audit.list')).toEqual({ allowed: false, reason: 'sign in first' });
    expect(gate(staffAuditor, 'sync.run')).toEqual({ allowed: false, reason: 'unknown use case sync.run' });
  });
  it('opens a screen serving several use cases when any is allowed', () => {
    expect(anyGate(staffAuditor, 'staff.list', 'audit.list').allowed).toBe(true);
    expect(anyGate(staffAuditor, 'staff.list', 'staff.add')).toEqual({ allowed: false, reason: 'Staff users cannot manage staff users (at team Riverside)' });
  });
});

describe('sortResidents', () => {
  const rows = [resident(1, 'Zoe', 'Adams', '10', ['current']), resident(2, 'Ava', 'Brown', '9', ['pending']), resident(3, 'Liam', 'Adams', '2', ['expired'])];
  it('sorts by last then first name, both ways, without touching the input', () => {
    expect(sortResidents(rows, { key: 'name', dir: 'asc' }).map((r) => r.id)).toEqual([3, 1, 2]);
    expect(sortResidents(rows, { key: 'name', dir: 'desc' }).map((r) => r.id)).toEqual([2, 1, 3]);
    expect(rows.map((r) => r.id)).toEqual([1, 2, 3]);
  });
  it('returns rows already in order as a copy in that order, and sorts rows one pair out of order', () => {
    const inOrder = [rows[2], rows[0], rows[1]];
    const copy = sortResidents(inOrder, { key: 'name', dir: 'asc' });
    expect(copy.map((r) => r.id)).toEqual([3, 1, 2]);
    expect(copy).not.toBe(inOrder);
    // Only the last pair swapped: a check of the first pairs alone would miss it.
    expect(sortResidents([rows[2], rows[1], rows[0]], { key: 'name', dir: 'asc' }).map((r) => r.id)).toEqual([3, 1, 2]);
    // Equal names keep the id order, whichever way they came.
    const twins = [resident(9, 'Ava', 'Adams', '1', ['current']), resident(4, 'Ava', 'Adams', '1', ['current'])];
    expect(sortResidents(twins, { key: 'name', dir: 'asc' }).map((r) => r.id)).toEqual([4, 9]);
  });
  it('sorts units numerically', () => {
    expect(sortResidents(rows, { key: 'unit', dir: 'asc' }).map((r) => r.unit)).toEqual(['2', '9', '10']);
  });
});

describe('field errors', () => {
  it('maps API field names to form fields', () => {
    expect(formField('FirstName')).toBe('first_name');
    expect(formField('ActivationDateUTC')).toBe('start');
    expect(formField('DeactivationDateUTC')).toBe('end');
    expect(formField('end')).toBe('end');
    expect(formField('Nonsense')).toBeUndefined();
    expect(formField('resident')).toBeUndefined();
  });
  it('puts each problem at its field and the rest under the form', () => {
    const e = new ApiError({
      code: 'invalid_input',
      message: 'x',
      details: { field: 'Unit', problems: [{ field: 'Unit', message: 'occupied' }, { field: 'resident', message: 'other' }] },
    });
    expect(problemsByField(e)).toEqual({ unit: 'occupied', '': 'other' });
    // A refusal with a reason code is said by the catalog, with the error's parameters.
    expect(problemsByField(new ApiError({ code: 'permission_denied', message: 'denied: no', details: { reason: 'permission_missing', use_case: 'resident.add', permission: 'residents.add' } }))).toEqual({
      '': 'Your roles do not allow this. Ask a Team administrator if you need to.',
    });
    // A broken rule at a field: the rule's message, with the field's label.
    expect(problemsByField(new ApiError({ code: 'invalid_input', message: 'FirstName is required', details: { field: 'FirstName', rule: 'required' } }))).toEqual({ first_name: 'First name is required.' });
  });
});

describe('residents store', () => {
  it('keeps only the newest answer when searches overlap', async () => {
    const answers: Record<string, (rows: ResidentView[]) => void> = {};
    const list = (_site: string, filter: ResidentFilter) =>
      new Promise<ResidentView[]>((resolve) => (answers[filter.search ?? ''] = resolve));
    const store = createResidents(list);
    const filter = (search: string): ResidentFilter => ({ statuses: [], building: null, search, limit: null });
    const slow = store.load('1', filter('a'));
    const fast = store.load('1', filter('av'));
    answers['av']([resident(2, 'Ava', 'Brown', '9', ['current'])]);
    await fast;
    answers['a']([resident(1, 'Zoe', 'Adams', '1', ['current']), resident(2, 'Ava', 'Brown', '9', ['current'])]);
    await slow;
    const state = get(store);
    expect(state.rows.map((r) => r.id)).toEqual([2]);
    expect(state.filter.search).toBe('av');
    expect(state.answered).toBe('av');
    expect(state.loading).toBe(false);
  });
  it('says "loading" only for a slow answer, keeping the rows on screen meanwhile', async () => {
    vi.useFakeTimers();
    let answer: (rows: ResidentView[]) => void = () => {};
    const list = () => new Promise<ResidentView[]>((resolve) => (answer = resolve));
    const store = createResidents(list);
    const filter = (search: string | null): ResidentFilter => ({ statuses: [], building: null, search, limit: null });
    const first = store.load('1', filter(null));
    answer([resident(1, 'Zoe', 'Adams', '1', ['current'])]);
    await first;
    const typed = store.load('1', filter('zo'));
    vi.advanceTimersByTime(SLOW_MS - 1);
    expect(get(store)).toMatchObject({ loading: true, slow: false, answered: null });
    expect(get(store).rows.map((r) => r.id)).toEqual([1]);
    vi.advanceTimersByTime(1);
    expect(get(store).slow).toBe(true);
    answer([]);
    await typed;
    expect(get(store)).toMatchObject({ loading: false, slow: false, answered: 'zo', rows: [] });
    // Another site's rows are never shown under this one's name.
    void store.load('2', filter(null));
    expect(get(store)).toMatchObject({ rows: [], slow: true });
    vi.useRealTimers();
  });
  it('reports a failed load', async () => {
    const store = createResidents(() => Promise.reject(new ApiError({ code: 'permission_denied', message: 'denied: site X is not in your sites' })));
    await store.load('9', { statuses: [], building: null, search: null, limit: null });
    expect(get(store).error).toBe('denied: site X is not in your sites');
  });
  it('shows the kept answer without a search at once when the field is cleared, and the core\'s when it differs', async () => {
    const all = [resident(1, 'Zoe', 'Adams', '1', ['current']), resident(2, 'Ava', 'Brown', '9', ['current'])];
    let answer: (rows: ResidentView[]) => void = () => {};
    const asked: (string | null)[] = [];
    const list = (_site: string, f: ResidentFilter) => {
      asked.push(f.search);
      return new Promise<ResidentView[]>((resolve) => (answer = resolve));
    };
    const store = createResidents(list);
    const filter = (search: string | null): ResidentFilter => ({ statuses: [], building: null, search, limit: null });
    const first = store.load('1', filter(null));
    answer(all.map((r) => ({ ...r })));
    await first;
    const shown = get(store).rows;
    const typed = store.load('1', filter('zo'));
    answer([all[0]]);
    await typed;
    expect(get(store).rows.map((r) => r.id)).toEqual([1]);
    // Cleared: the kept rows before the core answers (no "loading"), the core still asked.
    const cleared = store.load('1', filter(''));
    expect(get(store)).toMatchObject({ rows: shown, loading: false, slow: false, answered: '' });
    await new Promise((r) => setTimeout(r, 0));
    expect(asked).toEqual([null, 'zo', '']);
    answer(all.map((r) => ({ ...r })));
    await cleared;
    expect(get(store).rows).toBe(shown);
    // The core's answer differs (someone else's change came in): it replaces the kept one.
    const again = store.load('1', filter(null));
    expect(get(store).rows).toBe(shown);
    await new Promise((r) => setTimeout(r, 0));
    const changed = [all[0], { ...all[1], last_name: 'Baker' }];
    answer(changed);
    await again;
    expect(get(store).rows).toEqual(changed);
    // Another status or building is another list: not the kept one.
    void store.load('1', { ...filter(null), statuses: ['current'] });
    expect(get(store).loading).toBe(true);
    answer([all[0]]);
  });
  it('does not ask again for a kept answer when another keystroke came before its frame', async () => {
    const asked: (string | null)[] = [];
    const list = (_site: string, f: ResidentFilter) => {
      asked.push(f.search);
      return Promise.resolve(f.search ? [] : [resident(1, 'Zoe', 'Adams', '1', ['current'])]);
    };
    const store = createResidents(list);
    const filter = (search: string | null): ResidentFilter => ({ statuses: [], building: null, search, limit: null });
    await store.load('1', filter(null));
    const cleared = store.load('1', filter(''));
    const typed = store.load('1', filter('q'));
    await Promise.all([cleared, typed]);
    expect(asked).toEqual([null, 'q']);
    expect(get(store)).toMatchObject({ answered: 'q', rows: [] });
  });
  it('never uses the kept answer to reload (the residents changed), and forgets it on a failure', async () => {
    let answer: (rows: ResidentView[]) => void = () => {};
    let fail: (e: unknown) => void = () => {};
    const list = () => new Promise<ResidentView[]>((resolve, reject) => ([answer, fail] = [resolve, reject]));
    const store = createResidents(list);
    const none: ResidentFilter = { statuses: [], building: null, search: null, limit: null };
    const first = store.load('1', none);
    answer([resident(1, 'Zoe', 'Adams', '1', ['current'])]);
    await first;
    const reload = store.reload();
    expect(get(store).loading).toBe(true);
    answer([]);
    await reload;
    expect(get(store).rows).toEqual([]);
    // A screen shown anew asks the core even for a kept answer.
    void store.load('1', none, true);
    expect(get(store).loading).toBe(true);
    answer([]);
    await new Promise((r) => setTimeout(r, 0));
    // The reloaded answer is the one kept now.
    const kept = store.load('1', none);
    expect(get(store)).toMatchObject({ loading: false, rows: [] });
    await new Promise((r) => setTimeout(r, 0));
    fail(new ApiError({ code: 'permission_denied', message: 'denied' }));
    await kept;
    void store.load('1', none);
    expect(get(store).loading).toBe(true);
  });
});

describe('debounce', () => {
  it('calls once after the quiet period', () => {
    vi.useFakeTimers();
    const fn = vi.fn();
    const d = debounce(fn, 100);
    d(1);
    d(2);
    vi.advanceTimersByTime(99);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fn).toHaveBeenCalledTimes(1);
    expect(fn).toHaveBeenCalledWith(2);
    vi.useRealTimers();
  });
});

describe('syncFeed', () => {
  const status = (running: boolean, pending = 0): SyncStatus => ({
    sites: [],
    pending,
    in_flight: 0,
    rejected: 0,
    conflict: 0,
    open_conflicts: 0,
    last_error: null,
    last_problem: null,
    last_pass_at: running ? null : '2026-11-23T19:00:00Z',
    running,
    progress: null,
  });

  it('keeps an event that arrives while a read is on its way', async () => {
    const { writable } = await import('svelte/store');
    const target = writable<{ status: SyncStatus | null; configured: boolean }>({ status: null, configured: false });
    const feed = syncFeed(target);
    let answer: (v: { status: SyncStatus; configured: boolean }) => void = () => {};
    const read = feed.read(() => new Promise((resolve) => (answer = resolve)));
    feed.event(status(false)); // the pass ended while the read was out
    answer({ status: status(true), configured: true }); // the read saw it running
    await read;
    expect(get(target)).toEqual({ status: status(false), configured: true });
    // With no event in between, the read's status is taken.
    await feed.read(async () => ({ status: status(false, 2), configured: true }));
    expect(get(target).status?.pending).toBe(2);
  });
});

describe('syncSummary', () => {
  const base: SyncStatus = {
    sites: [],
    pending: 0,
    in_flight: 0,
    rejected: 0,
    conflict: 0,
    open_conflicts: 0,
    last_error: null,
    last_problem: null,
    last_pass_at: '2026-11-23T14:05:00Z',
    running: false,
    progress: null,
  };
  it('says when sync is not set up, with what is waiting', () => {
    expect(syncSummary({ status: { ...base, pending: 3 }, configured: false })).toEqual({
      state: 'off',
      text: 'Sync is not set up · 3 changes waiting',
    });
  });
  it('shows online with the last sync (in the desk zone, named) and counts', () => {
    const s = syncSummary({ status: { ...base, pending: 2, open_conflicts: 1 }, configured: true });
    expect(s.state).toBe('online');
    expect(s.text).toBe('Online · last sync 2:05 PM UTC · 2 pending · 1 conflict');
    vi.stubEnv('TZ', 'America/Los_Angeles');
    try {
      const west = syncSummary({ status: { ...base, pending: 2, open_conflicts: 1 }, configured: true });
      expect(west.text).toBe('Online · last sync 6:05 AM PST · 2 pending · 1 conflict');
    } finally {
      vi.unstubAllEnvs();
    }
  });
  it('shows offline with the error, and progress while running', () => {
    const offline = syncSummary({ status: { ...base, pending: 1, last_error: 'network error: refused' }, configured: true });
    expect(offline).toEqual({ state: 'offline', text: 'Offline · 1 pending · last sync 2:05 PM UTC', detail: 'network error: refused' });
    const running = syncSummary({ status: { ...base, running: true, progress: { phase: 'push', done: 3, total: 10 } }, configured: true });
    expect(running).toEqual({ state: 'syncing', text: 'Syncing (sending 3/10)' });
  });
});

describe('access-management gates', () => {
  it('stay closed until the core answers, then show its decision and reason', async () => {
    expect(actionGate(null, 'role_manage')).toEqual({ allowed: false, reason: 'checking…' });
    await loadAccessGates(() =>
      Promise.resolve([
        { action: 'role_list', allowed: true, reason: '' },
        { action: 'role_manage', allowed: false, reason: 'denied: Staff users lack team.members' },
      ]),
    );
    const gates = get(accessGates);
    expect(actionGate(gates, 'role_list')).toEqual({ allowed: true, reason: '' });
    expect(actionGate(gates, 'role_manage')).toEqual({ allowed: false, reason: 'Staff users lack team.members' });
    expect(actionGate(gates, 'token_create').allowed).toBe(false);
  });

  it('close everything and show a notice when the core cannot answer', async () => {
    await loadAccessGates(() => Promise.reject(new ApiError({ code: 'unauthenticated', message: 'please sign in first' })));
    expect(get(accessGates)).toEqual([]);
    expect(actionGate(get(accessGates), 'role_list').allowed).toBe(false);
    expect(get(notices).some((n) => noticeText(n) === 'please sign in first')).toBe(true);
  });
});
