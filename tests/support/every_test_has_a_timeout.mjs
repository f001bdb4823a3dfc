// Every test of this build tree has a TIMEOUT: one without it that hangs
// runs until CI's own limit, and CI then names no test (a thread pool that
// lost an operation's last items did that once).
import { execFileSync } from 'node:child_process';

const [ctest, dir] = process.argv.slice(2);
const { tests } = JSON.parse(
  execFileSync(ctest, ['--show-only=json-v1'], { cwd: dir, encoding: 'utf8', maxBuffer: 64 << 20 }),
);
// NAME_NOT_BUILT: gtest_discover_tests' stand-in for a test binary this tree
// does not build (the sanitizer tree builds only what its tests run).
const missing = tests
  .filter((t) => !t.name.endsWith('_NOT_BUILT'))
  .filter((t) => !(t.properties ?? []).some((p) => p.name === 'TIMEOUT'))
  .map((t) => t.name);
if (missing.length > 0) {
  console.error(`${missing.length} of ${tests.length} tests have no TIMEOUT: ${missing.slice(0, 20).join(', ')}`);
  process.exit(1);
}
console.log(`all ${tests.length} tests have a TIMEOUT`);
