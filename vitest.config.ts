import { defineConfig } from 'vitest/config';

/**
 * Tests wait on events (a log line, a status field, a link); these timeouts
 * are only backstops for a test that would otherwise hang. They are
 * generous because the suite runs real processes, real WebRTC and a real
 * browser on machines as small as two busy cores, where a test that takes
 * 4 s alone can take 20 s (vitest's own defaults, 5 s per test and 1 s per
 * expect.poll, fail such a test while nothing is wrong). A test that needs
 * longer says so itself.
 */
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    teardownTimeout: 30_000,
    expect: { poll: { timeout: 30_000 } },
  },
});
