#!/bin/sh
//bin/sh -c : ; case "$1" in version | help | -h | --help) exec node -- "$0" "$@" ;; esac ; exec node --max-semi-space-size=2 -- "$0" "$@"
// The line above is for sh (a path, then a case and an exec) and a comment for Node: run as a
// program, this file starts Node with a 2 MB young generation, which keeps a run's peak memory
// ~30 MB lower with no loss of speed (measured in bench/; see README "Performance"). Any V8 flag
// makes Node compile the builtin modules it loads after start without their code cache (~10 ms
// for `version`), so the commands that allocate nothing start without it. `node bin.cjs` runs
// without the flag. A plain `env -S` shebang would fail on busybox and older coreutils.
import { main } from './cli.js';

// Node prints process warnings with their message, and a library's message may quote input
// (yaml's quote the line, which can be a secret's). src/yaml.ts silences yaml's at the source;
// this drops any other, so nothing reaches stderr but through src/log.ts.
process.removeAllListeners('warning');

// No top-level await: the build makes this a CommonJS file (scripts/build.mjs).
void main({
  argv: process.argv.slice(2),
  env: process.env,
  stdin: 0, // read directly from the file descriptor (src/input/read.ts)
  stdout: process.stdout,
  stderr: process.stderr,
}).then((code) => {
  process.exitCode = code;
});
