/**
 * node:crypto on first use. Loading it is ~18 builtin modules: 4 ms, ~15 ms under the
 * launcher's V8 flag (see src/bin.ts), which most runs (token auth, no sha256sum) never need.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export const nodeCrypto = (): typeof import('node:crypto') => require('node:crypto') as typeof import('node:crypto');

export const sha256Hex = (text: string): string => nodeCrypto().createHash('sha256').update(text, 'utf8').digest('hex');
