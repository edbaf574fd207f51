/** Property tests of the placeholder grammar and of text that holds no placeholder. */
import test from 'ava';
import fc from 'fast-check';
import { VaultfillError } from '../../src/errors.js';
import { findPlaceholders } from '../../src/placeholder/grammar.js';
import { memoryBackend, run } from '../helpers/memory.js';

const placeholderish = fc.stringMatching(/^[<>|#:a-z{}.\s"'\\-]{0,40}$/);
const anyText = fc.oneof(fc.string({ unit: 'binary' }), placeholderish, placeholderish.map((s) => `<path:${s}>`), placeholderish.map((s) => `<${s}|${s}>`));

test('the grammar never throws: every problem is a typed error', (t) => {
  fc.assert(
    fc.property(anyText, fc.constantFrom('generic' as const, 'path-only' as const), (text, mode) => {
      for (const found of findPlaceholders(text, mode)) {
        if ('error' in found) t.true(found.error instanceof VaultfillError && typeof found.error.code === 'string');
        else t.is(text.slice(found.start, found.start + found.raw.length), found.raw);
      }
    }),
    { numRuns: 2000 },
  );
});

test('documents without placeholders come out byte for byte', async (t) => {
  const scalar = fc.string({ unit: 'binary' }).filter((s) => !s.includes('<path:'));
  await fc.assert(
    fc.asyncProperty(fc.array(fc.tuple(fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/), scalar), { minLength: 1, maxLength: 6 }), async (pairs) => {
      const unique = [...new Map(pairs).entries()];
      const text = `kind: ConfigMap\ndata:\n${unique.map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`).join('\n')}\n`;
      const backend = memoryBackend({});
      const r = await run(text, backend);
      t.deepEqual(r.errors, []);
      t.is(r.output, text);
      t.is(backend.reads.length, 0);
    }),
    { numRuns: 300 },
  );
});
