// Types of bench/output.mjs for the tests that check where runs write (test/committed-files.test.ts).
export const ROOT: string;
export const OUT_DIR: string;
export const COMMITTED_BENCH_FILES: Record<string, string>;
export const BENCHMARKS_MD: string;
export const GENERATED_START: string;
export const GENERATED_END: string;
export const SOAK_RESULTS: string;
export const COMMITTED_SOAK_RESULTS: string;
export function benchTargets(name: string, options?: { write?: boolean }): string[];
export function spliceGenerated(text: string, generated: string): string;
export function spliceBetween(text: string, startMarker: string, endMarker: string, generated: string): string;
export class BenchOutput {
  readonly written: string[];
  readonly root: string;
  readonly write: boolean;
  constructor(options?: { root?: string; write?: boolean });
  checkBenchmarksMd(): void;
  file(name: string, text: string): void;
  benchmarksMd(resultsMd: string): void;
  editBenchmarksMd(edit: (text: string) => string): void;
}
