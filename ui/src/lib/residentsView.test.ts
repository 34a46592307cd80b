import { describe, it, expect, vi } from 'vitest';
import { DEFAULT_SCREEN, columnTemplate, fromViewState, rememberer, toViewState, type ResidentsScreen } from './residentsView';

describe('the Residents screen as a saved view', () => {
  it('goes to a view state and comes back unchanged', () => {
    const screen: ResidentsScreen = { columns: ['name', 'unit', 'end'], sort: { key: 'end', dir: 'desc' }, status: 'ended', building: 'B', search: 'ann' };
    const state = toViewState(screen);
    expect(state).toEqual({ columns: ['name', 'unit', 'end'], sort: { key: 'end', descending: true }, filters: { status: 'ended', building: 'B', search: 'ann' } });
    expect(fromViewState(state)).toEqual(screen);
    expect(toViewState(DEFAULT_SCREEN).filters).toEqual({});
  });

  it('drops what it does not know and always shows the name', () => {
    const back = fromViewState({ columns: ['unit', 'mystery'], sort: { key: 'mystery', descending: true }, filters: { status: 'gone', building: 'A' } });
    expect(back).toEqual({ columns: ['name', 'unit'], sort: { key: 'name', dir: 'asc' }, status: '', building: 'A', search: '' });
    expect(fromViewState({ columns: [], sort: null, filters: {} })).toEqual(DEFAULT_SCREEN);
  });

  it('lays out only the visible columns', () => {
    expect(columnTemplate(['name', 'start'])).toBe('2.5rem 1.3fr 7.5rem');
  });

  it('remembers a settled state once, and at once on flush', async () => {
    vi.useFakeTimers();
    const saved: unknown[] = [];
    const r = rememberer(async (s) => void saved.push(s), 500);
    const a = toViewState(DEFAULT_SCREEN);
    const b = toViewState({ ...DEFAULT_SCREEN, status: 'invitation_not_accepted' });
    r.known(a);
    r.change(a);
    r.change(b);
    r.change(b);
    expect(saved).toEqual([]);
    await vi.advanceTimersByTimeAsync(600);
    expect(saved).toEqual([b]);
    r.change(b);
    await vi.advanceTimersByTimeAsync(600);
    expect(saved).toHaveLength(1);
    r.change(a);
    await r.flush();
    expect(saved).toEqual([b, a]);
    vi.useRealTimers();
  });
});
