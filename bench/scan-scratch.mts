import { writeSyntheticExport } from '../integrations/apple-health/test-helpers.js';
import { newFastRecord, scanRecord } from '../integrations/apple-health/fast-record.js';
import { readFileSync } from 'node:fs';
await writeSyntheticExport('/tmp/sb/x.xml', 20e6);
const s = readFileSync('/tmp/sb/x.xml', 'utf8');
const r = newFastRecord();
for (let rep = 0; rep < 5; rep++) {
  let i = 0, n = 0, bail = 0; const t = performance.now();
  for (;;) { const j = s.indexOf('<Record', i); if (j < 0) break; const e = scanRecord(s, j, r); if (e >= 0) { n++; i = e; } else { bail++; i = j + 7; } }
  console.log(n, bail, (performance.now() - t).toFixed(0), 'ms', ((performance.now() - t) * 1e6 / n).toFixed(0), 'ns/record');
}
for (let rep = 0; rep < 3; rep++) {
  let t = performance.now(); let x = 0;
  for (let i = 0; i < s.length; i++) { const c = s.charCodeAt(i); if (c === 34) x++; }
  console.log('plain loop', s.length, (performance.now() - t).toFixed(0), 'ms', x);
}
