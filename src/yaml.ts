/**
 * The `yaml` package, loaded on first use. Loading it costs ~45 ms, a third of a small run; a
 * run whose documents the line scanner reads whole (the usual Helm and Kustomize output), or
 * that has nothing to do, never needs it. Import its types with `import type` elsewhere.
 */
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';

const require = createRequire(import.meta.url);
let loaded: typeof Yaml | undefined;

export function yaml(): typeof Yaml {
  loaded ??= require('yaml') as typeof Yaml;
  return loaded;
}

/**
 * Parses one YAML text into plain data with the package's warnings silenced: `yaml` writes
 * them with process.emitWarning, quoting the line (a secret's, for a secrets file or a value
 * given to yamlParse). Errors still throw; callers turn them into messages without the text.
 */
export function parseYaml(text: string, options: Yaml.ParseOptions & Yaml.DocumentOptions & Yaml.SchemaOptions & Yaml.ToJSOptions = {}): unknown {
  return yaml().parse(text, { ...options, logLevel: 'error' });
}
