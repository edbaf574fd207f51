import test from 'ava';
import fc from 'fast-check';
import { splitDocuments } from '../../src/manifest/documents.js';

// What "could need work" means, as one regular expression per document (the definition the
// whole-text search in splitDocuments must agree with).
const CANDIDATE = /<path:|avp\.kubernetes\.io\/path|\bkind["']?[ \t]*:[ \t]*["']?Secret\b/;

const fragments = ['kind', 'Kind', 'akind', 'kind_', ':', ' ', '\t', '"', "'", 'Secret', 'Secrets', 'xSecret', '\n', '---\n', '...\n', 'a: b\n', '<path:', '<pat', 'h:', 'avp.kubernetes.io/path', 'avp.kubernetes.io', '/path', '#'];

test('documents are marked for work exactly when they hold a placeholder, an annotation path or kind: Secret', (t) => {
  fc.assert(
    fc.property(fc.array(fc.constantFrom(...fragments), { maxLength: 40 }), (parts) => {
      const text = parts.join('');
      for (const chunk of splitDocuments({ name: 'stdin', text })) {
        if (chunk.candidate !== CANDIDATE.test(chunk.text)) return false;
      }
      return true;
    }),
    { numRuns: 3000 },
  );
  t.pass();
});

test('kind: Secret is found in YAML and JSON spellings, and only as the kind', (t) => {
  const marked = (text: string): boolean[] => splitDocuments({ name: 'stdin', text }).map((c) => c.candidate);
  t.deepEqual(marked('kind: Secret\n---\nkind: "Secret"\n---\n{"kind":"Secret"}\n---\n{"kind" : \'Secret\'}\n'), [true, true, true, true]);
  t.deepEqual(marked('kind: SecretStore\n---\nkind: ConfigMap\nsecret: Secret\n---\nmykind: Secret\n---\nkind:\n  Secret\n'), [false, false, false, false]);
});
