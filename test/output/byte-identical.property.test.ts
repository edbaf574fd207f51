/**
 * Untouched bytes stay untouched: random multi-document streams (separators with comments, `...`,
 * directives after `...`, comment-only and empty documents, leading comments, CRLF and mixed line
 * endings, a missing final newline, documents vaultfill never parses) in which some documents hold
 * placeholders. The secret value is a word every writer puts in as it is, so the whole expected
 * output is known byte for byte: the input with each placeholder value-position replaced by it,
 * and nothing else (a placeholder in a comment stays). Both readers, the same bytes.
 */
import test from 'ava';
import fc from 'fast-check';
import { generateBothWays, show } from '../helpers/read-back.js';

const SEED = Number(process.env.FC_SEED ?? 20261130);
const RUNS = Number(process.env.FC_RUNS ?? 40) * 5;

const WORD = 'Vf9value';
const PH = '<path:secret/data/s#w>';
const SECRETS = { 'secret/data/s': { w: WORD } };

/** A piece of a stream: its input text and the text expected out (both with `\n` line ends, converted later). */
interface Piece {
  readonly input: string;
  readonly output: string;
}
const same = (text: string): Piece => ({ input: text, output: text });
const join = (pieces: readonly Piece[]): Piece => ({ input: pieces.map((p) => p.input).join(''), output: pieces.map((p) => p.output).join('') });

/** A value with a placeholder, as it is written and as it must come out. */
const placeholderValue: fc.Arbitrary<Piece> = fc.constantFrom(
  { input: PH, output: WORD },
  { input: `"x-${PH}"`, output: `"x-${WORD}"` },
  { input: `'${PH}-y'`, output: `'${WORD}-y'` },
  { input: `pre ${PH} post`, output: `pre ${WORD} post` },
  { input: `${PH} # <path:secret/data/s#w> in a comment`, output: `${WORD} # <path:secret/data/s#w> in a comment` },
  { input: `|\n    line ${PH}`, output: `|\n    line ${WORD}` },
  { input: `|-\n    ${PH}`, output: `|-\n    ${WORD}` },
);
const plainValue: fc.Arbitrary<Piece> = fc.constantFrom('hello', '"quoted"', "'single'", '<b>not a placeholder</b>', '1', 'yes', '~', '[a, b]', '{a: 1}', '|\n    block text\n\n', 'x # comment').map(same);

const keyName = fc.constantFrom('a', 'b', 'config.yaml', 'user', 'URL');

/** A resource; `placeholders` says whether some of its values hold one. */
const resource = (placeholders: boolean): fc.Arbitrary<Piece> =>
  fc
    .record({
      kind: fc.constantFrom('ConfigMap', 'Deployment', 'Secret'),
      name: fc.constantFrom('app', 'db', 'web'),
      entries: fc.array(fc.tuple(keyName, placeholders ? fc.oneof(placeholderValue, plainValue) : plainValue), { minLength: 1, maxLength: 4 }),
      forced: placeholderValue,
      comment: fc.constantFrom('', '  # a comment in the document\n', `# ${PH} in a comment line\n`),
    })
    .map(({ kind, name, entries, forced, comment }) => {
      const field = kind === 'Secret' ? 'stringData' : kind === 'ConfigMap' ? 'data' : 'spec';
      const all = placeholders ? [...entries, ['last', forced] as const] : entries;
      const lines = all.map(([key, value], i) => ({ input: `  ${key}${i}: ${value.input}\n`, output: `  ${key}${i}: ${value.output}\n` }));
      return join([same(`apiVersion: v1\nkind: ${kind}\nmetadata:\n  name: ${name}\n${comment}${field}:\n`), ...lines]);
    });

/**
 * Documents vaultfill does not parse, as odd as valid YAML gets: anchors and aliases, complex
 * keys, JSON, escapes, tabs, trailing spaces, a keep-chomped block, a bare scalar or list.
 * (Invalid YAML is not among them: a `<path:` in any comment near it may make vaultfill read it.)
 */
const untouched: fc.Arbitrary<Piece> = fc
  .constantFrom(
    'key: [closed, list]\ntabbed:\tx\n', 'a: &x 1\nb: *x\n', '- list\n- items\n', 'just a scalar\n', '{"json": true, "html": "<b>"}\n', '? complex\n: key\n',
    'text: "with \\t an escape"\n', 'kind: Deployment\nspec:\n  replicas: 3\n', 'a: |+\n  keep   \n\n', 'trailing: spaces   \n', '  indented: 1\n  same: 2\n',
  )
  .map(same);

/** A Secret without placeholders: read (its data could be base64 placeholders), found to need nothing, left as it is. */
const secretWithout = fc.constantFrom('kind: Secret\ndata:\n  a: aGVsbG8=\n  b: "d29ybGQ="  # world\n', 'kind: Secret\r\nstringData: {a: b}\n').map(same);

const commentOnly = fc.constantFrom('# only a comment\n', `# ${PH}\n# two comment lines\n`, '\n# after a blank line\n\n').map(same);

/** What stands between two documents. */
const separator = fc.constantFrom(
  '---\n', '--- # a comment on the separator\n', `--- # ${PH}\n`, '---   \n', '---\t# after a tab\n', '...\n---\n', '...\n# between documents\n---\n',
  '...\n%YAML 1.1\n---\n', '...\n%YAML 1.2\n%TAG !e! tag:example.com,2000:\n--- # with directives\n', '---\n---\n', '---\n# a comment-only document\n---\n',
).map(same);

type LineEnds = 'lf' | 'crlf' | 'mixed';

/** A stream: an optional lead, documents with separators, an optional end; then its line ends and final newline. */
const stream = (withPlaceholders: boolean, lineEnds: readonly LineEnds[]): fc.Arbitrary<{ piece: Piece; lineEnds: LineEnds; pattern: boolean[]; finalNewline: boolean }> =>
  fc.record({
    lead: fc.constantFrom('', '# leading comment\n', '---\n', '# leading\n---\n', '%YAML 1.1\n---\n').map(same),
    // At least one document with content (a stream of comments only has its own test).
    docs: fc
      .tuple(
        withPlaceholders ? resource(true) : fc.oneof(resource(false), untouched),
        fc.array(withPlaceholders ? fc.oneof(resource(true), resource(false), untouched, secretWithout, commentOnly) : fc.oneof(resource(false), untouched, secretWithout, commentOnly), { maxLength: 5 }),
        fc.nat(),
      )
      .map(([first, rest, at]) => [...rest.slice(0, at % (rest.length + 1)), first, ...rest.slice(at % (rest.length + 1))]),
    seps: fc.array(separator, { minLength: 6, maxLength: 6 }),
    end: fc.constantFrom('', '...\n', '# trailing comment\n', '---\n').map(same),
    lineEnds: fc.constantFrom<LineEnds>(...lineEnds),
    pattern: fc.array(fc.boolean(), { minLength: 1, maxLength: 7 }),
    finalNewline: fc.boolean(),
  }).map(({ lead, docs, seps, end, lineEnds, pattern, finalNewline }) => ({
    piece: join([lead, ...docs.flatMap((doc, i) => (i ? [seps[i] as Piece, doc] : [doc])), end]),
    lineEnds,
    pattern,
    finalNewline,
  }));

/** The same line ends for input and expected output: each line break is the n-th of both. */
function withLineEnds(text: string, lineEnds: LineEnds, pattern: readonly boolean[], finalNewline: boolean): string {
  let i = 0;
  let out = text.replace(/\n/g, () => (lineEnds === 'crlf' || (lineEnds === 'mixed' && pattern[i++ % pattern.length]) ? '\r\n' : '\n'));
  if (!finalNewline) out = out.replace(/\r?\n$/, '');
  return out;
}

function firstDifference(a: string, b: string): string {
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return `at offset ${i}: expected ${show(b.slice(Math.max(0, i - 40), i + 40))}, got ${show(a.slice(Math.max(0, i - 40), i + 40))}`;
}

async function holds(t: { fail(message: string): void; pass(): void }, withPlaceholders: boolean, lineEnds: readonly LineEnds[]): Promise<void> {
  let edited = 0;
  const result = await fc.check(
    fc.asyncProperty(stream(withPlaceholders, lineEnds), async ({ piece, lineEnds, pattern, finalNewline }) => {
      const input = withLineEnds(piece.input, lineEnds, pattern, finalNewline);
      const expected = withLineEnds(piece.output, lineEnds, pattern, finalNewline);
      if (input !== expected) edited++;
      const ran = await generateBothWays(input, SECRETS);
      for (const [path, got] of Object.entries(ran)) {
        const errors = got.errors.map((e) => `${e.code}: ${e.message}`);
        if (errors.length || got.output !== expected) {
          throw new Error(`FC_SEED=${SEED}, ${path}: ${errors.length ? `errors ${show(errors)}` : firstDifference(got.output, expected)}\ninput:    ${show(input)}\nexpected: ${show(expected)}\noutput:   ${show(got.output)}`);
        }
      }
    }),
    { seed: SEED, numRuns: RUNS, endOnFailure: !process.env.FC_SHRINK },
  );
  if (result.failed) {
    const error = result.errorInstance instanceof Error ? result.errorInstance.message : String(result.errorInstance);
    t.fail(`property failed after ${result.numRuns} runs (replay: FC_SEED=${result.seed}, fast-check path ${JSON.stringify(result.counterexamplePath)}):\n${error}`);
    return;
  }
  if (withPlaceholders && edited < RUNS / 4) t.fail(`only ${edited} of ${RUNS} streams had placeholders to fill`);
  else t.pass();
}

test('every untouched document and separator comes out byte for byte, and each placeholder is filled in place (LF or CRLF)', async (t) => {
  await holds(t, true, ['lf', 'crlf']);
});

test('every untouched document and separator comes out byte for byte, and each placeholder is filled in place (mixed line ends)', async (t) => {
  await holds(t, true, ['mixed']);
});

test('a stream without placeholders comes out exactly as it went in', async (t) => {
  await holds(t, false, ['lf', 'crlf', 'mixed']);
});

test('a stream of comments and separators only comes out exactly as it went in (with --allow-empty)', async (t) => {
  for (const input of ['# leading\n---\n# only a comment\n', '# just a comment', '---\n...\n', '\n\n# c\r\n']) {
    const ran = await generateBothWays(input, SECRETS);
    for (const [path, got] of Object.entries(ran)) t.is(got.output, input, `${path}: ${show(input)}`);
  }
});

// AVP decodes base64 in a Secret's `data` only; `stringData` and metadata hold plain text, so
// base64 of placeholder text there is a value like any other.
test("base64 of a placeholder outside a Secret's data is plain text, left as it is", async (t) => {
  const b64 = Buffer.from('<path:secret/data/s#w>', 'utf8').toString('base64');
  for (const input of [
    `apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  a: ${b64}\n`,
    `apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  annotations:\n    note: ${b64}\n  labels:\n    l: ${b64}\ntype: Opaque\n`,
  ]) {
    const ran = await generateBothWays(input, SECRETS);
    for (const [path, got] of Object.entries(ran)) t.is(got.output, input, `${path}: ${show(input)}`);
  }
});
