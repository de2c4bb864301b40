import { readFileSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
const buf = readFileSync('/tmp/sb/x.xml');
const CH = 256 * 1024;
for (let rep = 0; rep < 3; rep++) {
  let t = performance.now(); let n = 0;
  const d = new StringDecoder('utf8');
  for (let i = 0; i < buf.length; i += CH) n += d.write(buf.subarray(i, i + CH)).length;
  console.log('StringDecoder', (performance.now() - t).toFixed(0), n);
  t = performance.now(); n = 0;
  const td = new TextDecoder('utf-8');
  for (let i = 0; i < buf.length; i += CH) n += td.decode(buf.subarray(i, i + CH), { stream: true }).length;
  console.log('TextDecoder stream', (performance.now() - t).toFixed(0), n);
  t = performance.now(); n = 0;
  for (let i = 0; i < buf.length; i += CH) n += buf.subarray(i, i + CH).toString('utf8').length;
  console.log('toString', (performance.now() - t).toFixed(0), n);
  t = performance.now(); n = 0;
  for (let i = 0; i < buf.length; i += CH) n += buf.subarray(i, i + CH).toString('latin1').length;
  console.log('latin1', (performance.now() - t).toFixed(0), n);
}
