// What the bench scripts share: rounds of sequential calls that take turns in a rotating order
// (so that load from elsewhere on the machine falls on every contender alike), and the median.

/** The median of `xs` (the mean of the two middle values for an even count). */
export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/**
 * Times `runs` ([name, call] pairs): `warmup` calls of each first, then `rounds` rounds in which
 * each makes `calls` sequential calls, taking turns in an order that rotates by round. Returns a
 * Map from name to its µs per call in each round.
 */
export async function timeRounds(runs, { calls, rounds, warmup }) {
  const times = new Map(runs.map(([name]) => [name, []]));
  for (const [, call] of runs) for (let i = 0; i < warmup; i++) await call();
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < runs.length; k++) {
      const [name, call] = runs[(k + r) % runs.length];
      const start = performance.now();
      for (let i = 0; i < calls; i++) await call();
      times.get(name).push(((performance.now() - start) * 1000) / calls);
    }
  }
  return times;
}
