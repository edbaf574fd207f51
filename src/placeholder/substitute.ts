/**
 * Secrets → documents: writes resolved values through each slot's EditTarget (a CST token or a
 * text range). Pure apart from those edits. A whole-scalar placeholder keeps its value's type;
 * inside a longer string the value is stringified; ConfigMap values are always strings; Secret
 * base64 values are re-encoded.
 */
import { secretId } from '../backends/types.js';
import { EXIT, VaultfillError } from '../errors.js';
import { assertRepresentable } from '../manifest/edit.js';
import type { SecretResult } from '../secrets/resolve.js';
import type { Reference, Slot } from './collect.js';

type Outcome =
  | { readonly value: unknown }
  | { readonly missing: true }
  | { readonly error: VaultfillError; readonly dedupe: string | undefined };

export function substitute(slots: readonly Slot[], secrets: ReadonlyMap<string, SecretResult>): VaultfillError[] {
  const errors: VaultfillError[] = [];
  const reported = new Set<string>();
  for (const slot of slots) {
    let failed = false;
    const missing: Reference[] = [];
    const values = slot.references.map((ref) => {
      const outcome = resolveReference(ref, slot, secrets);
      if ('error' in outcome) {
        failed = true;
        if (outcome.dedupe === undefined || !reported.has(outcome.dedupe)) errors.push(outcome.error);
        if (outcome.dedupe !== undefined) reported.add(outcome.dedupe);
      } else if ('missing' in outcome) {
        missing.push(ref);
      }
      return 'value' in outcome ? outcome.value : undefined;
    });
    if (failed) continue;
    if (!missing.length) {
      try {
        write(slot, values);
      } catch (error) {
        if (!(error instanceof VaultfillError)) throw error;
        errors.push(error.at((slot.references[0] as Reference).location));
      }
    }
    else if (slot.resource.removeMissing && slot.target.removable) slot.target.remove();
    else errors.push(...missing.map(keyNotFound));
  }
  return errors;
}

function resolveReference(ref: Reference, slot: Slot, secrets: ReadonlyMap<string, SecretResult>): Outcome {
  const id = secretId(ref.request);
  const result = secrets.get(id);
  if (!result) return { error: new VaultfillError('INTERNAL', `secret ${ref.request.path} was not read`), dedupe: id };
  if ('error' in result) {
    const e = result.error;
    // A failure of the whole backend or its settings is reported once; of one secret, once per resource.
    if (e.exitCode !== EXIT.resolution) return { error: e, dedupe: `${e.code}:${e.message}` };
    const where = ref.location;
    return { error: e.at(where), dedupe: `${e.code}:${id}:${where.source}:${where.document}:${slot.resource.label}` };
  }
  const { placeholder } = ref;
  let value: unknown = Object.hasOwn(result.data, placeholder.key) ? result.data[placeholder.key] : undefined;
  if (value === undefined || value === null) {
    const fallback = placeholder.modifiers.find((m) => m.fallback !== undefined)?.fallback;
    if (fallback === undefined) return { missing: true };
    value = fallback;
  }
  try {
    for (const modifier of placeholder.modifiers) value = modifier.apply(value);
  } catch (error) {
    if (error instanceof VaultfillError) return { error: error.at(ref.location), dedupe: undefined };
    throw error;
  }
  return { value };
}

function write(slot: Slot, values: readonly unknown[]): void {
  // Checked on the values themselves: stringified or encoded, a lone surrogate becomes U+FFFD
  // and an infinite number null, and the check on the text written would see neither.
  const [only] = slot.references;
  const whole = slot.references.length === 1 && only?.placeholder.raw === slot.text;
  const first = values[0];
  const typed = whole && !slot.base64 && !slot.stringify && typeof first !== 'string';
  values.forEach((value) => assertRepresentable(value, !typed));
  if (typed) {
    slot.target.setTyped(first);
    return;
  }
  let text = '';
  let cursor = 0;
  slot.references.forEach((ref, i) => {
    text += slot.text.slice(cursor, ref.placeholder.start) + stringify(values[i]);
    cursor = ref.placeholder.end;
  });
  text += slot.text.slice(cursor);
  slot.target.setString(slot.base64 ? Buffer.from(text, 'utf8').toString('base64') : text);
}

export function stringify(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  return JSON.stringify(value);
}

function keyNotFound(ref: Reference): VaultfillError {
  const { request, placeholder } = ref;
  const version = request.version === undefined ? '' : ` (version ${request.version})`;
  const hint = 'add `| default "…"` to the placeholder, or check the key name';
  return new VaultfillError('KEY_NOT_FOUND', `key "${placeholder.key}" not found in ${request.path}${version}; ${hint}`, {
    location: ref.location,
  });
}
