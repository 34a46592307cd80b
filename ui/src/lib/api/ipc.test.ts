import { describe, it, expect, vi, beforeEach } from 'vitest';

const invoke = vi.fn();
vi.mock('@tauri-apps/api/core', () => ({ invoke: (...args: unknown[]) => invoke(...args) }));

const { api, ApiError, toApiError } = await import('./index');

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

  it('returns what the command returns', async () => {
    invoke.mockResolvedValue([{ id: 7, name: 'Riverside', level: 'team_admin', active: true }]);
    await expect(api.teamList()).resolves.toEqual([{ id: 7, name: 'Riverside', level: 'team_admin', active: true }]);
  });

  it('turns the core error into an ApiError with code, field and problems', async () => {
    const coreError = {
      code: 'invalid_input',
      message: 'unit 101 is occupied (and 1 more problems)',
      details: {
        field: 'Unit',
        problems: [
          { field: 'Unit', message: 'unit 101 is occupied' },
          { field: 'FirstName', message: 'FirstName is required' },
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
    expect(e.problems.map((p) => p.field)).toEqual(['Unit', 'FirstName']);
    expect(e.problems[1].message).toBe('FirstName is required');
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
});
