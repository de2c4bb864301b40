/** A one-page PDF with a line of text, built by hand with a correct cross-reference table. */
export function tinyPdf(text: string): Buffer {
  const esc = text.replace(/[\\()]/g, (c) => `\\${c}`);
  const stream = `BT /F1 24 Tf 72 720 Td (${esc}) Tj ET`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let out = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((o, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const off of offsets) out += `${String(off).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** Local date `daysAgo` days before today as YYYY-MM-DD. */
export function localDay(daysAgo: number): string {
  const d = new Date();
  d.setDate(d.getDate() - daysAgo);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** A small Apple Health export.xml: heart rate, steps and weight over the last `days` days. */
export function appleHealthXml(days = 14): string {
  const recs: string[] = [];
  for (let i = days - 1; i >= 0; i--) {
    const day = localDay(i);
    for (const [h, bpm] of [
      ['08', 58 + (i % 5)],
      ['13', 72 + (i % 7)],
      ['19', 66 + (i % 4)],
    ] as const) {
      const t = `${day} ${h}:15:00 +0100`;
      recs.push(
        `<Record type="HKQuantityTypeIdentifierHeartRate" sourceName="Apple Watch" unit="count/min" creationDate="${t}" startDate="${t}" endDate="${t}" value="${bpm}"/>`,
      );
    }
    const s = `${day} 10:00:00 +0100`;
    const e = `${day} 11:00:00 +0100`;
    recs.push(
      `<Record type="HKQuantityTypeIdentifierStepCount" sourceName="iPhone" unit="count" creationDate="${e}" startDate="${s}" endDate="${e}" value="${4000 + ((i * 1337) % 6000)}"/>`,
    );
    if (i % 3 === 0)
      recs.push(
        `<Record type="HKQuantityTypeIdentifierBodyMass" sourceName="Scale" unit="kg" creationDate="${s}" startDate="${s}" endDate="${s}" value="${(71.5 - i * 0.1).toFixed(1)}"/>`,
      );
  }
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE HealthData [
<!ELEMENT HealthData (ExportDate,Me,(Record|Workout)*)>
]>
<HealthData locale="en_GB">
 <ExportDate value="${localDay(0)} 20:00:00 +0100"/>
 <Me HKCharacteristicTypeIdentifierDateOfBirth="1980-01-01" HKCharacteristicTypeIdentifierBiologicalSex="HKBiologicalSexFemale"/>
 ${recs.join('\n ')}
</HealthData>
`;
}

/** A PDF with one line of text on each page, built like {@link tinyPdf}. */
export function pagedPdf(pages: string[]): Buffer {
  const n = pages.length;
  // Objects: 1 catalog, 2 pages, 3 font, then per page i: page 4+2i, content 5+2i.
  const kids = pages.map((_, i) => `${4 + 2 * i} 0 R`).join(' ');
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    `<< /Type /Pages /Kids [${kids}] /Count ${n} >>`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  pages.forEach((text, i) => {
    const stream = `BT /F1 18 Tf 72 720 Td (${text.replace(/[\\()]/g, (c) => `\\${c}`)}) Tj ET`;
    objects.push(`<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents ${5 + 2 * i} 0 R /Resources << /Font << /F1 3 0 R >> >> >>`);
    objects.push(`<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`);
  });
  let out = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((o, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const off of offsets) out += `${String(off).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}
