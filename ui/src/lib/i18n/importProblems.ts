//! An import's problems in the person's language: the file-level faults (empty, UTF-16,
//! missing columns…) the core sends as codes, and the title of each group of row problems
//! (one kind of problem in one column, with its count) that a large file's report shows
//! instead of one line per problem.
import type { FileCode } from '../api/bindings/FileCode';
import type { ProblemGroup } from '../api/bindings/ProblemGroup';
import { fieldLabel, isResidentField } from '../residentFields';
import type { MessageKey } from './en';
import { t } from './locale.svelte';

function unreachable(x: never): string {
  return String(x);
}

/** Column names as the person's form labels them (API names never shown). */
const columns = (names: string[]): string => names.map((n) => (isResidentField(n) ? fieldLabel(n) : n)).join(', ');

/** What is wrong with a file as a whole, from its code. */
export function fileCodeText(c: FileCode): string {
  switch (c.fault) {
    case 'empty':
      return t('io.fault.empty');
    case 'utf16':
      return t('io.fault.utf16');
    case 'unreadable':
      return t('io.fault.unreadable', { reason: c.reason });
    case 'no_header':
      return t('io.fault.no_header');
    case 'header_empty':
      return t('io.fault.header_empty');
    case 'header_nul':
      return t('io.fault.header_nul');
    case 'duplicate_columns':
      return t('io.fault.duplicate_columns', { first: c.first, second: c.second, field: fieldLabel(c.field) });
    case 'missing_columns':
      return t('io.fault.missing_columns', { missing: columns(c.missing), count: c.missing.length, found: c.found.join(', ') });
    case 'row_too_long':
      return t('io.fault.row_too_long', { kib: c.kib });
    case 'too_many_rows':
      return t('io.fault.too_many_rows', { max: c.max });
    default:
      return unreachable(c);
  }
}

/** The title of each kind of problem the core groups by (a rule's or a row code's tag). */
const KINDS: Record<string, MessageKey> = {
  required: 'io.kind.required',
  invalid: 'io.kind.invalid',
  email_taken: 'io.kind.email_taken',
  email_immutable: 'io.kind.other',
  not_a_mapping: 'io.kind.not_a_mapping',
  unit_occupied: 'io.kind.unit_occupied',
  end_before_start: 'io.kind.end_before_start',
  row_cut: 'io.kind.row_cut',
  row_overflow: 'io.kind.row_overflow',
  cell_too_long: 'io.kind.cell_too_long',
  nul_byte: 'io.kind.nul_byte',
  other_site: 'io.kind.other_site',
  email_twice: 'io.kind.email_twice',
  unit_twice: 'io.kind.unit_twice',
  file: 'io.kind.file',
};

/** A group's title: the kind of problem and the column it is in. */
export function groupTitle(g: ProblemGroup): string {
  const key = KINDS[g.kind] ?? 'io.kind.other';
  const column = isResidentField(g.field) ? fieldLabel(g.field) : (g.examples[0]?.column ?? '');
  return t(key, { column });
}
