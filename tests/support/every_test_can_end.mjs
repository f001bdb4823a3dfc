// Every test of this build tree can end:
//  - it has a TIMEOUT: one without it that hangs runs until CI's own limit,
//    and CI then names no test (a thread pool that lost an operation's last
//    items did that once);
//  - a test run by node runs it as OSPREY_NODE (cmake/tests.cmake) does, with
//    --single-threaded: Node's exit can deadlock with a V8 background compile
//    job (nodejs/node#54918), and a LiteRT comparison that had printed
//    "all passed" hung until its timeout.
import { execFileSync } from 'node:child_process';
import path from 'node:path';

const [ctest, dir] = process.argv.slice(2);
const { tests } = JSON.parse(
  execFileSync(ctest, ['--show-only=json-v1'], { cwd: dir, encoding: 'utf8', maxBuffer: 64 << 20 }),
);
// NAME_NOT_BUILT: gtest_discover_tests' stand-in for a test binary this tree
// does not build (the sanitizer tree builds only what its tests run).
const built = tests.filter((t) => !t.name.endsWith('_NOT_BUILT'));
const problems = [];
const untimed = built.filter((t) => !(t.properties ?? []).some((p) => p.name === 'TIMEOUT')).map((t) => t.name);
if (untimed.length > 0) problems.push(`${untimed.length} have no TIMEOUT: ${untimed.slice(0, 20).join(', ')}`);
const threaded = built
  .filter((t) => t.command && path.basename(t.command[0]) === 'node' && !t.command.includes('--single-threaded'))
  .map((t) => t.name);
if (threaded.length > 0) problems.push(`${threaded.length} run node without --single-threaded: ${threaded.join(', ')}`);
if (problems.length > 0) {
  console.error(`of ${tests.length} tests, ${problems.join('; ')}`);
  process.exit(1);
}
console.log(`all ${tests.length} tests have a TIMEOUT; every node test runs --single-threaded`);
