// The letter to a new staff member: addressed to them, with the code, in both languages,
// and never a command line or the raw token.
import { describe, it, expect, afterEach } from 'vitest';
import type { InvitationLetter } from '../api/bindings/InvitationLetter';
import { letterText } from './invitationLetter';
import { setLocaleChoice } from './locale.svelte';
import { technicalTerms } from './plainWords';

afterEach(() => setLocaleChoice('en', false));

const letter: InvitationLetter = {
  name: 'Ivy Invitee',
  email: 'ivy@example.test',
  inviter: 'lena@demo.test',
  team: 'Riverside Living',
  base: 'staff_user',
  addons: ['Auditor'],
  all_sites: false,
  sites: ['Maple Court', 'Willow Park'],
  code: 'rdi-1a2b-3c4d-5e6f-7a8b-9c0d-1e2f-3a4b-5c6d-7e8f-9a0b-1c2d-3e4f',
  expires_at: '2026-12-07T15:00:00Z',
};

describe('the invitation letter', () => {
  it('is a plain letter with the code, in English and in Spanish', () => {
    const en = letterText(letter);
    expect(en.startsWith('Hello Ivy Invitee,')).toBe(true);
    expect(en).toContain('Riverside Living');
    expect(en).toContain('Maple Court and Willow Park');
    expect(en).toContain('Staff user and Auditor');
    expect(en).toContain(`    ${letter.code}`);
    setLocaleChoice('es', false);
    const es = letterText({ ...letter, name: '', all_sites: true, sites: [] });
    expect(es.startsWith('Hola:')).toBe(true);
    expect(es).toContain('todos los sitios del equipo');
    expect(es).toContain(letter.code);
    for (const text of [en, es]) {
      expect(text).not.toMatch(/residentdesk |--token|rdi_/);
      expect(technicalTerms(text)).toEqual([]);
    }
  });
});
