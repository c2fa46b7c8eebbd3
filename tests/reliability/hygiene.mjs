// Where a secret could surface, and the forms it could take there. Used by the fault-matrix
// suite and the echo pass.

import { inspect } from 'node:util';

/** Every text a value (an error or a client) shows to the code that holds it. */
export function exposedTexts(value) {
  const texts = [];
  const push = (where, fn) => {
    try {
      const v = fn();
      texts.push([where, typeof v === 'string' ? v : String(v)]);
    } catch (e) {
      texts.push([where, `[threw ${e && e.message}]`]);
    }
  };
  push('String()', () => String(value));
  push('util.inspect(showHidden, depth 5)', () => inspect(value, { showHidden: true, depth: 5 }));
  push('JSON.stringify', () => JSON.stringify(value));
  if (value !== null && typeof value === 'object') {
    push('message', () => value.message);
    push('stack', () => value.stack);
    push('JSON.stringify(own property names)', () => JSON.stringify(value, Object.getOwnPropertyNames(value)));
    for (const key of [...Object.getOwnPropertyNames(value), ...Object.getOwnPropertySymbols(value)]) {
      push(`own property ${String(key)}`, () => {
        const v = value[key];
        return typeof v === 'object' && v !== null ? inspect(v, { showHidden: true, depth: 5 }) : v;
      });
    }
    if (typeof value.toJSON === 'function') push('toJSON()', () => JSON.stringify(value.toJSON()));
  }
  return texts;
}

/** The forms of a secret worth looking for: as is, form-urlencoded, percent-encoded, JSON-escaped. */
export function secretForms(secret) {
  const forms = new Set([secret]);
  forms.add(new URLSearchParams({ s: secret }).toString().slice(2));
  forms.add(encodeURIComponent(secret));
  forms.add(JSON.stringify(secret).slice(1, -1));
  return [...forms].filter((f) => f.length >= 4);
}

/**
 * Pieces of a secret that must not show either: every window of `size` characters (a message cut
 * in the middle of a secret still gives part of it away). Only for secrets made to be distinctive,
 * so that no window can occur in ordinary text.
 */
export function secretWindows(secret, size = 8) {
  const out = new Set();
  const chars = [...secret];
  for (let i = 0; i + size <= chars.length; i++) out.add(chars.slice(i, i + size).join(''));
  return [...out];
}

/** [{ where, needle }] for every needle found in any exposed text of `value`. */
export function findLeaks(value, needles) {
  const leaks = [];
  for (const [where, text] of exposedTexts(value)) {
    for (const needle of needles) {
      if (needle && text.includes(needle)) leaks.push({ where, needle });
    }
  }
  return leaks;
}

/** Describes leaks without printing the needle itself: one line per place, with the longest piece. */
export function describeLeaks(leaks, label) {
  const byPlace = new Map();
  for (const l of leaks) byPlace.set(l.where, Math.max(byPlace.get(l.where) || 0, l.needle.length));
  return [...byPlace].map(([where, longest]) => `${label}: secret text (up to ${longest} chars of it) shows in ${where}`);
}

const CONSOLE_METHODS = ['log', 'info', 'warn', 'error', 'debug', 'trace', 'dir'];

/**
 * Wraps the console methods: every line is kept (as formatted text) and passed on unless it holds
 * one of `needles()`; returns { lines, restore }.
 */
export function captureConsole(needles) {
  const lines = [];
  const saved = {};
  for (const m of CONSOLE_METHODS) {
    saved[m] = console[m];
    console[m] = (...args) => {
      const text = args.map((a) => (typeof a === 'string' ? a : inspect(a, { depth: 5 }))).join(' ');
      lines.push(text);
      if (!needles().some((n) => n && text.includes(n))) saved[m].apply(console, args);
    };
  }
  return {
    lines,
    restore() {
      for (const m of CONSOLE_METHODS) console[m] = saved[m];
    },
  };
}
