// Baseline: the `yaml` package's parseAllDocuments + toString of stdin, in one Node process.
// Writes the round-tripped stream to stdout and `{"ms":…}` (in-process time, no startup) to stderr.
import { parseAllDocuments } from 'yaml';

const t0 = performance.now();
const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const text = Buffer.concat(chunks).toString('utf8');
const docs = parseAllDocuments(text);
const list = Array.isArray(docs) ? docs : [];
let out = '';
for (const doc of list) out += doc.toString();
process.stdout.write(out);
process.stderr.write(`${JSON.stringify({ ms: Math.round(performance.now() - t0), documents: list.length })}\n`);
