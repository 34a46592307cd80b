import { describe, it, expect, vi, beforeEach } from 'vitest';

const invoke = vi.fn();
vi.mock('@tauri-apps/api/core', () => ({ invoke: (...args: unknown[]) => invoke(...args) }));
const listen = vi.fn();
vi.mock('@tauri-apps/api/event', () => ({ listen: (...args: unknown[]) => listen(...args) }));

const { api, ApiError, toApiError } = await import('./index');
import type { AppError } from './bindings/AppError';

describe('api wrappers', () => {
  beforeEach(() => {
    invoke.mockReset();
  });

  it('passes camelCase arguments to the named command', async () => {
    invoke.mockResolvedValue({ staff_id: 1 });
    await api.init('a@b.test', 'pw', 'Riverside');
    expect(invoke).toHaveBeenCalledWith('init', { email: 'a@b.test', password: 'pw', teamName: 'Riverside' });
    await api.residentList('3', { statuses: ['current'], building: null, search: 'ava', limit: null });
    expect(invoke).toHaveBeenLastCalledWith('resident_list', {
      site: '3',
      filter: { statuses: ['current'], building: null, search: 'ava', limit: null },
    });
    await api.staffAdd({ email: 'x@y.test', display_name: 'X', level: 'staff_user', sites: [], password: 'p' });
    expect(invoke).toHaveBeenLastCalledWith('staff_add', {
      new: { email: 'x@y.test', display_name: 'X', level: 'staff_user', sites: [], password: 'p' },
    });
  });

  it('subscribes to the shell events by name and hands over their payloads', async () => {
    const unlisten = vi.fn();
    let deliver: ((e: { payload: unknown }) => void) | null = null;
    listen.mockImplementation(async (_event: string, cb: (e: { payload: unknown }) => void) => {
      deliver = cb;
      return unlisten;
    });
    const seen: unknown[] = [];
    const stop = await api.onImportProgress((p) => seen.push(p));
    expect(listen).toHaveBeenLastCalledWith('import-progress', expect.any(Function));
    deliver!({ payload: { rows: 1000, bytes: 98000 } });
    expect(seen).toEqual([{ rows: 1000, bytes: 98000 }]);
    stop();
    expect(unlisten).toHaveBeenCalled();
    await api.onSyncStatus(() => {});
    expect(listen).toHaveBeenLastCalledWith('sync-status', expect.any(Function));
  });

  it('names no file: the shell asks for it and keeps the path', async () => {
    invoke.mockResolvedValue({ name: 'residents.csv', bytes: 120 });
    await expect(api.importChoose()).resolves.toEqual({ name: 'residents.csv', bytes: 120 });
    expect(invoke).toHaveBeenLastCalledWith('import_choose', {});
    invoke.mockResolvedValue({ status: 'dry_run' });
    await api.importPreview('3');
    expect(invoke).toHaveBeenLastCalledWith('import_preview', { site: '3' });
    await api.importCommit('3', true);
    expect(invoke).toHaveBeenLastCalledWith('import_commit', { site: '3', validOnly: true });
    invoke.mockResolvedValue(null);
    await expect(api.importChoose()).resolves.toBeNull();
  });

  it('returns what the command returns', async () => {
    invoke.mockResolvedValue([{ id: 7, name: 'Riverside', level: 'team_admin', active: true }]);
    await expect(api.teamList()).resolves.toEqual([{ id: 7, name: 'Riverside', level: 'team_admin', active: true }]);
  });

  it('turns the core error into an ApiError with code, field, rule and problems', async () => {
    const coreError: AppError = {
      code: 'invalid_input',
      message: 'Unit 101 is already occupied for these dates by Ava Reed (and 1 more problems)',
      details: {
        rule: 'unit_occupied',
        unit: '101',
        occupant: 'Ava Reed',
        field: 'Unit',
        problems: [
          {
            field: 'Unit',
            message: 'Unit 101 is already occupied for these dates by Ava Reed',
            rule: { rule: 'unit_occupied', unit: '101', occupant: 'Ava Reed' },
          },
          { field: 'FirstName', message: 'FirstName is required', rule: { rule: 'required', field: 'FirstName' } },
        ],
      },
    };
    invoke.mockImplementation(() => Promise.reject(coreError));
    const outcome = await api.residentShow('12').then(
      () => null,
      (e: unknown) => e,
    );
    expect(outcome instanceof ApiError).toBe(true);
    const e = outcome as InstanceType<typeof ApiError>;
    expect(e.code).toBe('invalid_input');
    expect(e.field).toBe('Unit');
    expect(e.reason).toBeUndefined();
    const rule = e.rule;
    expect(rule?.rule).toBe('unit_occupied');
    if (rule?.rule === 'unit_occupied') expect(rule.occupant).toBe('Ava Reed');
    expect(e.problems.map((p) => p.field)).toEqual(['Unit', 'FirstName']);
    expect(e.problems[1].message).toBe('FirstName is required');
    expect(e.problems[1].rule).toEqual({ rule: 'required', field: 'FirstName' });
  });

  it('gives one problem for an error about one field, with its rule', () => {
    const required: AppError = { code: 'invalid_input', message: 'LastName is required', details: { rule: 'required', field: 'LastName' } };
    const e = toApiError(required);
    expect(e.field).toBe('LastName');
    expect(e.problems).toEqual([{ field: 'LastName', message: 'LastName is required', rule: { rule: 'required', field: 'LastName' } }]);
    const flag = toApiError({ code: 'invalid_input', message: 'expected local or remote', details: { field: 'keep' } });
    expect(flag.problems).toEqual([{ field: 'keep', message: 'expected local or remote' }]);
    expect(flag.rule).toBeUndefined();
  });

  it('reads the reason and its members', () => {
    const busy: AppError = {
      code: 'internal',
      message: 'a sync is already running on this database (since 06:00, by residentdesk sync, pid 1 on elsewhere)',
      details: { reason: 'sync_busy', holder: 'residentdesk sync, pid 1 on elsewhere', since: '2026-11-30T06:00:00Z' },
    };
    const e = toApiError(busy);
    expect(e.reason).toBe('sync_busy');
    expect(e.details?.holder).toBe('residentdesk sync, pid 1 on elsewhere');
    expect(e.problems).toEqual([]);
    const denied = toApiError({
      code: 'permission_denied',
      message: 'denied: no',
      details: { reason: 'permission_missing', use_case: 'resident.add', permission: 'residents.add' },
    });
    expect(denied.reason).toBe('permission_missing');
    expect(denied.details?.permission).toBe('residents.add');
    const ambiguous = toApiError({ code: 'invalid_input', message: 'several', details: { reason: 'ambiguous', candidates: ['Riverside', 'River Oaks'] } });
    expect(ambiguous.details?.candidates).toEqual(['Riverside', 'River Oaks']);
  });

  it('keeps a lockout message and maps non-core failures to internal', () => {
    const locked = toApiError({ code: 'unauthenticated', message: 'account locked after 5 failed sign-ins; try again in 15 minutes' });
    expect(locked.code).toBe('unauthenticated');
    expect(locked.message).toContain('locked');
    expect(locked.problems).toEqual([]);
    const odd = toApiError('window closed');
    expect(odd.code).toBe('internal');
    expect(odd.message).toBe('window closed');
    expect(toApiError({ code: 'made_up', message: 'x' }).code).toBe('internal');
  });

  it('sends the access-management commands with their arguments', async () => {
    invoke.mockResolvedValue(null);
    await api.roleAdd({ key: 'exporter', name: 'Exporter', permissions: ['residents.export'], assignable: true, description: '' });
    expect(invoke).toHaveBeenLastCalledWith('role_add', {
      role: { key: 'exporter', name: 'Exporter', permissions: ['residents.export'], assignable: true, description: '' },
    });
    await api.jobFunctionAdd('night', 'Night desk', 'staff_user', ['exporter'], true);
    expect(invoke).toHaveBeenLastCalledWith('job_function_add', {
      key: 'night', name: 'Night desk', base: 'staff_user', roles: ['exporter'], allSites: true,
    });
    const invitation = { email: 'n@x.test', display_name: 'N', level: 'staff_user', job_function: null, roles: [], all_sites: false, sites: ['1'] };
    await api.inviteCreate(invitation);
    expect(invoke).toHaveBeenLastCalledWith('invite_create', { invitation });
    await api.inviteResend(4);
    expect(invoke).toHaveBeenLastCalledWith('invite_resend', { id: 4 });
    await api.inviteAccept('rdi_abc_def', 'Nora', 'long-password');
    expect(invoke).toHaveBeenLastCalledWith('invite_accept', { token: 'rdi_abc_def', name: 'Nora', password: 'long-password' });
    await api.tokenCreate({ name: 'ci', permissions: [], all_sites: false, sites: [], expires_in_days: 30 });
    expect(invoke).toHaveBeenLastCalledWith('token_create', {
      token: { name: 'ci', permissions: [], all_sites: false, sites: [], expires_in_days: 30 },
    });
    await api.tokenRevoke('1a2b3c4d');
    expect(invoke).toHaveBeenLastCalledWith('token_revoke', { token: '1a2b3c4d' });
    await api.accessExplain(null, 'manage_staff_users', 'team');
    expect(invoke).toHaveBeenLastCalledWith('access_explain', { email: null, action: 'manage_staff_users', place: 'team' });
    await api.accessChange('s@x.test', { base: null, add_roles: ['auditor'], remove_roles: [], all_sites: null, sites: null });
    expect(invoke).toHaveBeenLastCalledWith('access_change', {
      email: 's@x.test',
      change: { base: null, add_roles: ['auditor'], remove_roles: [], all_sites: null, sites: null },
    });
    await api.staffActions();
    expect(invoke).toHaveBeenLastCalledWith('staff_actions', {});
  });

  it('passes a refused resend through with the core reason', async () => {
    invoke.mockImplementation(() =>
      Promise.reject({ code: 'invalid_input', message: 'invitation #3 was sent at 2026-05-01 10:00 UTC; it can be resent once it has been pending for more than 2 days' }),
    );
    const e = await api.inviteResend(3).catch((x: unknown) => x);
    expect(e instanceof ApiError).toBe(true);
    expect((e as InstanceType<typeof ApiError>).message).toContain('more than 2 days');
  });
});
