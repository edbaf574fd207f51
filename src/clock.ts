/**
 * Milliseconds on a monotonic clock, for phase timings and the parse loop's yields. Not
 * `performance.now()`: the first use of that global loads 11 builtin modules, ~1 ms, and
 * ~3 ms under the launcher's V8 flag (see src/bin.ts).
 */
export const now = (): number => Number(process.hrtime.bigint()) / 1e6;
