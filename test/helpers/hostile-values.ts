/**
 * Secret values chosen to break a YAML writer: every class of text that some YAML reader (YAML
 * 1.2 core, YAML 1.1, Kubernetes' go-yaml) reads as something else, breaks a scalar, or cannot
 * hold; and typed values (numbers, booleans, null, nested maps and lists of such strings). The
 * curated lists are swept whole by the tests; the arbitraries mix and mutate them.
 */
import fc from 'fast-check';

const INDICATORS = ['-', '?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', "'", '"', '%', '@', '`'];

/** Each class's strings; the class name is shown when a value of it fails. */
export const HOSTILE_STRINGS: Readonly<Record<string, readonly string[]>> = {
  indicators: [
    ...INDICATORS,
    ...INDICATORS.map((c) => `${c}x`),
    ...INDICATORS.map((c) => `${c} x`),
    ...INDICATORS.map((c) => `x${c}`),
    '- - x', '? x : y', '&a x', '*a', '!!str x', '!tag', '|-', '>+', '%YAML 1.2', '@x', '`x`', '[a, b]', '{a: b}', '{}', '[]', 'a, b', 'a]', 'a}',
  ],
  'colon and hash': ['x:', 'x: y', 'x:y', 'a :b', 'x #y', 'x#y', '#', ' #', 'key: value # comment', 'a:b:c', 'x:\ty', 'x\t#y', 'http://x:80/a#b', 'a::b', ':', '::'],
  numbers: [
    '0', '1', '-1', '+1', '+12', '017', '08', '09', '0777', '0o17', '0O17', '0x1F', '0xDEADBEEF', '0XFF', '0b101', '0B1', '0b2', '1_000', '0x_1F', '1_', '_1', '1__0',
    '685_230.15', '1.0', '1.', '5.', '.5', '-.5', '+.5', '1e3', '1E3', '1e+3', '1.5e-3', '1.0e+21', '-0', '-0.0', '+0', '00', '0.0', '1.2.3', '1,000', '0x', '0o', '1e', 'e1',
    '.inf', '-.inf', '+.inf', '.Inf', '.INF', '.nan', '.NaN', '.NAN', 'inf', '-inf', 'nan', 'Infinity', '-Infinity', 'NaN',
    '1e400', '1e-400', '99999999999999999999', '9223372036854775808', '0xFFFFFFFFFFFFFFFF', '0x10000000000000000', '123456789012345678901234567890',
  ],
  'booleans and null': [
    'y', 'Y', 'yes', 'Yes', 'YES', 'n', 'N', 'no', 'No', 'NO', 'true', 'True', 'TRUE', 'false', 'False', 'FALSE', 'on', 'On', 'ON', 'off', 'Off', 'OFF',
    'yEs', 'tRUE', 'oN', 'oFF', 'nO', 'fALSE', 'yes ', ' no', 'yes!', 'True1', 'onn', 'offf', 'y y',
    '~', 'null', 'Null', 'NULL', 'nULL', '', 'None', 'nil', '<<', '=', '!!null',
  ],
  'dates and sexagesimals': [
    '2001-12-14', '2001-12-14t21:59:43.10-05:00', '2001-12-14 21:59:43.10 -5', '2002-12-14T00:00:00Z', '2001-1-1', '12:30:00', '190:20:30', '1:20', '-1:30', '1:20.5', '20:30:40.5',
  ],
  'quotes and backslashes': ["it's", "'", "''", '"', '""', '\\', '\\\\', '\\n', '\\"', 'a\\', '\\x41', '\\u0041', '\\ud83d\\ude00', 'say "hi"', `'"'`, "x'y\"z\\"],
  whitespace: [
    ' ', '  ', '\t', ' lead', 'trail ', ' both ', '\ta', 'a\t', 'a\tb', '\n', '\r', '\r\n', '\n\n', 'a\n', 'a\n\n', 'a\n\n\n', '\na', '\n\na', ' \n', '\n ', 'a\n ',
    'a \nb', 'a\nb', 'a\r\nb', 'a\rb', 'a\n\rb', 'a\n\tb', 'a\n b', 'line\n  indented\nback', 'a\n\nb', 'a\n \nb', 'a\n\t\nb', 'x\ny\n', '\t\n', ' \t ',
  ],
  unicode: [
    '\u2028', 'a\u2028b', '\u2029', 'a\u2029', '\ufeff', '\ufeffa', 'a\ufeff', '\u0085', 'a\u0085b', '😀', 'a😀b', '\ud83d\ude00\ud83d\ude00',
    '\ufffe', '\uffff', 'a\ufffeb', 'é', 'naïve', '日本語', '\u00a0', 'a\u00a0', '\u00a0a', '\u200b', 'e\u0301', '\u{10ffff}', '\u{1f468}\u200d\u{1f469}',
  ],
  'lone surrogates': ['\ud800', '\udfff', '\ud83d', '\ude00', 'x\ud800', '\udc00x', 'a\ud83d b', '\ude00\ud83d'],
  controls: [
    '\0', 'a\0b', '\x01', '\x07', '\b', '\x0b', '\f', '\x1b', 'a\x1bb', '\x1f', '\x7f', 'a\x7f', '\x80', '\x9f', 'a\x9fb', '\x1b[31mred\x1b[0m',
  ],
  long: ['a'.repeat(5000), 'x y '.repeat(1200), `${'line of text\n'.repeat(300)}end`, `"${'\\'.repeat(2000)}"`, '😀'.repeat(1500)],
  'placeholder look-alikes': [
    '<path:x#y>', '<path:secret/data/v#k>', '<path:secret/data/other#k>', '<k>', '<other>', 'a<path:x#y>b', '<path:secret/data/v#k | base64encode>', '<path:secret/data/v#k>\n<k>', '<', '>', '<>', 'a < b > c',
  ],
  'document markers': [
    '---', '--- ', '---\n', '...', '...\n', 'a\n---\nb', 'a\n--- x\nb', 'a\n...\nb', '---\n...', '%YAML 1.1', 'a\n%YAML 1.1\n---\nb', '--- |\n  x', '# not a comment', 'a\n# c', 'a\n#c\nb',
  ],
  'letter first': ['a', 'x', 'abc', 'E', 'e5', 'E5', 'e+5', 'e-3', 'e_1', 'Null1', 'yes1', 'a-b', 'a=b', 'a/b', 'A_B', 'a~', 'a%b', 'a@b', 'a!b', 'a&b', 'a*b', 'a|b', 'a>b', 'a`b', "a'b", 'a"b', 'a[b]', 'a{b}', 'a,b', 'value:', 'value :', 'a b c', 'v1.2.3', 'ghp_AbC123', 'sk-live-0123'],
};

export const TYPED_VALUES: Readonly<Record<string, readonly unknown[]>> = {
  numbers: [0, 1, -1, 42, -0, 0.5, -1.5, 0.1 + 0.2, 1e21, 1e-7, 5e-324, Number.MAX_VALUE, Number.MIN_VALUE, 2 ** 53, 2 ** 53 + 2, 2 ** 63, 2 ** 64, -(2 ** 63), 1.5e300, 123456789.125],
  'non-finite numbers': [Infinity, -Infinity, NaN],
  booleans: [true, false],
  null: [null],
  collections: [
    {}, [], { a: 1 }, [1, '2', true, null], { yes: 'no', '<<': { a: 1 }, 'a b': [1, 'x: y'], '': null, '~': '~' },
    [{ b: 'c\nd' }, [[]], { e: -0 }], { k: '\u2028\u0085\ufeff' }, { 'key\nwith break': 'x', 'a: b': '#c' }, { n: [0.1, 1e21, -1, '017', '0xDEADBEEF', 'yes'] },
    { deep: { deeper: { deepest: ['2001-12-14', '12:30:00', '', ' '] } } }, ['--- ', '...', '<path:x#y>'],
  ],
  'unrepresentable collections': [{ k: '\ud800' }, ['\udc00'], { '\ud83d': 1 }, { a: Infinity }, [NaN], { a: [1, { b: -Infinity }] }],
};

export type HostileValue = { readonly value: unknown; readonly label: string };

/** Every curated value, with its class. */
export function curatedValues(): HostileValue[] {
  const out: HostileValue[] = [];
  for (const [label, values] of Object.entries(HOSTILE_STRINGS)) for (const value of values) out.push({ value, label: `string/${label}` });
  for (const [label, values] of Object.entries(TYPED_VALUES)) for (const value of values) out.push({ value, label: `typed/${label}` });
  return out;
}

const ALL_STRINGS = Object.values(HOSTILE_STRINGS).flat().filter((s) => s.length < 200);
const FRAGMENTS = [...ALL_STRINGS, '\n', '\r\n', ' ', '\t', ': ', ' #', '\n--- ', '\n...', '\n- ', "'", '"', '\\'];

/** Strings: curated ones, any Unicode, lone surrogates, and concatenations of hostile fragments. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.constantFrom(...ALL_STRINGS), weight: 4 },
  { arbitrary: fc.array(fc.constantFrom(...FRAGMENTS), { minLength: 1, maxLength: 6 }).map((parts) => parts.join('')), weight: 4 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 30 }), weight: 2 },
  { arbitrary: fc.string({ unit: fc.constantFrom(...' \t\n\r:#-?[]{},&*!|>\'"%@`~.0123456789abeEnoxyYtT'), maxLength: 20 }), weight: 3 },
  { arbitrary: fc.tuple(fc.string({ maxLength: 5 }), fc.integer({ min: 0xd800, max: 0xdfff }), fc.string({ maxLength: 5 })).map(([a, c, b]) => a + String.fromCharCode(c) + b), weight: 1 },
);

const typedLeaf: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(...TYPED_VALUES.numbers ?? [], ...(TYPED_VALUES.booleans ?? []), null),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  hostileString,
);

/** Typed values: numbers (all doubles, with -0, NaN and infinities), booleans, null, nested maps and lists of hostile strings. */
export const hostileTyped: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: fc.constantFrom(...Object.values(TYPED_VALUES).flat()), weight: 3 },
  { arbitrary: fc.double(), weight: 2 },
  { arbitrary: fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }), weight: 1 },
  {
    arbitrary: fc.letrec<{ node: unknown }>((tie) => ({
      node: fc.oneof({ depthSize: 'small', maxDepth: 3 }, typedLeaf, fc.array(tie('node'), { maxLength: 3 }), fc.dictionary(hostileString, tie('node'), { maxKeys: 3 })),
    })).node,
    weight: 3,
  },
);

/** Any secret value: mostly strings, a third typed. */
export const hostileValue: fc.Arbitrary<HostileValue> = fc.oneof(
  { arbitrary: hostileString.map((value) => ({ value, label: 'string/random' })), weight: 2 },
  { arbitrary: hostileTyped.map((value) => ({ value, label: 'typed/random' })), weight: 1 },
);
