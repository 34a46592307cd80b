//! The modal dialogs open now, innermost last. A modal <dialog> makes the rest of the page
//! inert — hidden from screen readers and the pointer — so the notices are shown inside the
//! topmost dialog while one is open (an error said then is announced and can be closed),
//! and by the page otherwise.
import { writable } from 'svelte/store';

export const modalStack = writable<number[]>([]);
let next = 1;

/** Records a dialog as opened; returns its id and the function that records it closed. */
export function openModal(): { id: number; close: () => void } {
  const id = next++;
  modalStack.update((s) => [...s, id]);
  return { id, close: () => modalStack.update((s) => s.filter((x) => x !== id)) };
}
