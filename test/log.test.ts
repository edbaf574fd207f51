import test from 'ava';
import { PassThrough } from 'node:stream';
import { createLogger } from '../src/log.js';

const capture = (verbose = false) => {
  const stderr = new PassThrough();
  let written = '';
  stderr.on('data', (d: Buffer) => (written += d.toString()));
  return { logger: createLogger(stderr, verbose), text: () => written };
};

test('values registered for redaction never reach stderr, raw or base64', (t) => {
  const { logger, text } = capture(true);
  logger.redact({ password: 'hunter2-secret', port: '8080', nested: { list: ['tok-abc', 'hunter2'] } });
  logger.error(`failed with hunter2-secret (${Buffer.from('hunter2-secret').toString('base64')}) on port 8080`);
  logger.debug('nested tok-abc and hunter2 here');
  const out = text();
  t.false(out.includes('hunter2'), out);
  t.false(out.includes(Buffer.from('hunter2-secret').toString('base64')), out);
  t.false(out.includes('tok-abc'), out);
  t.true(out.includes('port 8080'), 'short numbers are settings, not masked');
  // The longer value is masked whole, not cut by its prefix `hunter2`.
  t.true(out.startsWith('failed with [redacted] ([redacted]) on port 8080\n'), out);
});

test('a value registered after something was written is masked too', (t) => {
  const { logger, text } = capture();
  logger.redact('first-value');
  logger.error('first-value');
  logger.redact(['second-value']);
  logger.error('second-value and first-value');
  t.is(text(), '[redacted]\n[redacted] and [redacted]\n');
});
