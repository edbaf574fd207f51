/**
 * Modifiers: a name → implementation table, so a new modifier is one row. Arguments are
 * checked when the placeholder is read; values are transformed during substitution. Failure
 * messages never quote the value.
 */
import { VaultfillError } from '../errors.js';
import { sha256Hex } from '../hash.js';
import { parseYaml } from '../yaml.js';
import { compileJsonPath, type CompiledJsonPath } from './jsonpath.js';

export interface ModifierCall {
  readonly name: string;
  /** Transforms a value; throws VaultfillError MODIFIER_FAILED. */
  readonly apply: (value: unknown) => unknown;
  /** Set only for `default`: the text used when the key is missing. */
  readonly fallback?: string;
}

type Compile = (argText: string) => Omit<ModifierCall, 'name'>;

const MODIFIERS: Record<string, Compile> = {
  base64encode: noArgs('base64encode', (v) => Buffer.from(text(v, 'base64encode'), 'utf8').toString('base64')),
  base64decode: noArgs('base64decode', (v) => {
    const input = text(v, 'base64decode').trim();
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(input) || input.length % 4 !== 0) fail('base64decode', 'the value is not valid base64');
    return Buffer.from(input, 'base64').toString('utf8');
  }),
  jsonParse: noArgs('jsonParse', (v) => parseJson(text(v, 'jsonParse'), 'jsonParse')),
  yamlParse: noArgs('yamlParse', (v) => {
    const input = text(v, 'yamlParse');
    try {
      return parseYaml(input, { maxAliasCount: 100 });
    } catch {
      return fail('yamlParse', 'the value is not valid YAML');
    }
  }),
  sha256sum: noArgs('sha256sum', (v) => sha256Hex(text(v, 'sha256sum'))),
  indent: (argText) => {
    if (!/^\d+$/.test(argText)) throw badArgument('indent', 'takes one whole number of spaces, e.g. `| indent 4`');
    const pad = ' '.repeat(Number(argText));
    return {
      apply: (v) => {
        // AVP's rule: first line trimmed, every later non-empty line trimmed and indented.
        const [first = '', ...rest] = text(v, 'indent').split('\n');
        const lines = [first.trim(), ...rest.filter((l) => l.length > 0).map((l) => pad + l.trim())];
        return lines.join('\n');
      },
    };
  },
  jsonPath: (argText) => {
    if (!argText) throw badArgument('jsonPath', 'needs a template, e.g. `| jsonPath {.a.b}`');
    const template = argText.split(/\s+/).join(' ');
    let compiled: CompiledJsonPath;
    try {
      compiled = compiledTemplate(template);
    } catch (error) {
      throw badArgument('jsonPath', error instanceof Error ? error.message : 'invalid template');
    }
    return {
      apply: (v) => {
        const data = typeof v === 'string' ? parseJson(v, 'jsonPath') : v;
        try {
          return compiled.evaluate(data);
        } catch (error) {
          // JsonPathError messages name the expression, never the data.
          return fail('jsonPath', error instanceof Error ? error.message : 'evaluation failed');
        }
      },
    };
  },
  default: (argText) => {
    const fallback = parseDefaultText(argText);
    return { apply: (v) => v, fallback };
  },
};


export const MODIFIER_NAMES: readonly string[] = Object.keys(MODIFIERS);

/** Parses one `| name args` segment. Throws VaultfillError for unknown names or bad arguments. */
export function compileModifier(segment: string): ModifierCall {
  const trimmed = segment.trim();
  const match = /^(\S+)\s*([\s\S]*)$/.exec(trimmed);
  if (!match) throw new VaultfillError('PLACEHOLDER_SYNTAX', 'empty modifier after `|`');
  const name = match[1] ?? '';
  const compile = Object.hasOwn(MODIFIERS, name) ? MODIFIERS[name] : undefined;
  if (!compile) {
    throw new VaultfillError('UNKNOWN_MODIFIER', `unknown modifier "${name}" (known: ${MODIFIER_NAMES.join(', ')})`);
  }
  return { name, ...compile((match[2] ?? '').trim()) };
}

const jsonPathCache = new Map<string, CompiledJsonPath>();
function compiledTemplate(template: string): CompiledJsonPath {
  let compiled = jsonPathCache.get(template);
  if (!compiled) {
    compiled = compileJsonPath(template);
    jsonPathCache.set(template, compiled);
  }
  return compiled;
}

function noArgs(name: string, apply: (value: unknown) => unknown): Compile {
  return (argText) => {
    if (argText) throw badArgument(name, 'takes no arguments');
    return { apply };
  };
}

function parseDefaultText(argText: string): string {
  if (!argText) throw badArgument('default', 'needs the text to use, e.g. `| default "none"`');
  const quote = argText[0];
  if (quote === '"' || quote === "'") {
    if (argText.length < 2 || argText[argText.length - 1] !== quote) {
      throw badArgument('default', `the text has no closing ${quote}`);
    }
    const body = argText.slice(1, -1);
    if (quote === "'") return body;
    try {
      return JSON.parse(argText) as string;
    } catch {
      throw badArgument('default', 'the double-quoted text has an invalid escape');
    }
  }
  if (/\s/.test(argText)) throw badArgument('default', 'quote text that contains spaces, e.g. `| default "two words"`');
  return argText;
}

function text(value: unknown, modifier: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return fail(modifier, `expects a string, got ${value === null ? 'null' : Array.isArray(value) ? 'a list' : typeof value}`);
}

function parseJson(input: string, modifier: string): unknown {
  try {
    return JSON.parse(input) as unknown;
  } catch {
    return fail(modifier, 'the value is not valid JSON');
  }
}

function fail(modifier: string, reason: string): never {
  throw new VaultfillError('MODIFIER_FAILED', `${modifier}: ${reason}`);
}

function badArgument(modifier: string, reason: string): VaultfillError {
  return new VaultfillError('MODIFIER_ARGUMENT', `${modifier} ${reason}`);
}
