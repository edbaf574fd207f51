#!/usr/bin/env node
// `npm run vault:dev`: build (or reuse) the real-Vault test server and run it
// in the foreground, like `vault server -dev`. Environment (all optional):
//   VAULT_DEV_LISTEN_ADDRESS (127.0.0.1:8200), VAULT_DEV_ROOT_TOKEN_ID (root),
//   VAULT_DEV_TLS_DIR (serve HTTPS with certs written there), VAULT_TEST_LOG_LEVEL (error),
//   VAULT_TEST_HA=1 (an active node and a standby that redirects; see server/ha.go).
// Prints one JSON line {"address","token","unsealKeys"} once it listens (HA: plus "active",
// "standby" and "caFile").
import { spawn } from 'node:child_process';
import { ensureVaultBinary } from './build.mjs';

let binary;
try {
  binary = await ensureVaultBinary();
} catch (err) {
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
}

const child = spawn(binary, process.argv.slice(2), { stdio: 'inherit', env: process.env });
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    if (child.exitCode === null && child.signalCode === null) child.kill(sig === 'SIGHUP' ? 'SIGTERM' : sig);
  });
}
child.on('error', (err) => {
  process.stderr.write(`cannot start ${binary}: ${err.message}\n`);
  process.exit(1);
});
child.on('exit', (code, signal) => {
  if (signal === 'SIGINT' || signal === 'SIGTERM') process.exit(0);
  process.exit(code ?? 1);
});
