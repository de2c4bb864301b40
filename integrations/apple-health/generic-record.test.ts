import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { QuantitySample, RecordInput } from '../types.js';
import { genericRecord } from './build.js';
import { importAppleHealth } from './import.js';
import type { AppleHealthSink } from './parse.js';
import { exportXml } from '../../test-support/integrations/apple-health/export-writer.js';

// The part of Apple's DTD (HealthKit Export Version 14, iOS 17) that declares the elements below.
const DTD_V14 = `<!DOCTYPE HealthData [
<!-- HealthKit Export Version: 14 -->
<!ELEMENT HealthData (ExportDate,Me,(Record|Correlation|Workout|ActivitySummary|ClinicalRecord|Audiogram|VisionPrescription)*)>
<!ATTLIST HealthData
  locale CDATA #REQUIRED
>
<!ELEMENT VisionPrescription ((RightEye|LeftEye|Attachment|MetadataEntry)*)>
<!ATTLIST VisionPrescription
  type             CDATA #REQUIRED
  dateIssued       CDATA #REQUIRED
  expirationDate   CDATA #IMPLIED
  brand            CDATA #IMPLIED
>
<!ELEMENT RightEye EMPTY>
<!ATTLIST RightEye
  sphere           CDATA #IMPLIED
  sphereUnit       CDATA #IMPLIED
  cylinder         CDATA #IMPLIED
  cylinderUnit     CDATA #IMPLIED
  axis             CDATA #IMPLIED
  axisUnit         CDATA #IMPLIED
>
<!ELEMENT LeftEye EMPTY>
<!ATTLIST LeftEye
  sphere           CDATA #IMPLIED
  sphereUnit       CDATA #IMPLIED
  cylinder         CDATA #IMPLIED
  cylinderUnit     CDATA #IMPLIED
  axis             CDATA #IMPLIED
  axisUnit         CDATA #IMPLIED
>
<!ELEMENT Attachment EMPTY>
<!ATTLIST Attachment
  identifier       CDATA #IMPLIED
>
<!ELEMENT MetadataEntry EMPTY>
<!ATTLIST MetadataEntry
  key   CDATA #REQUIRED
  value CDATA #REQUIRED
>
]>`;

const glasses = (issued: string) =>
  ` <VisionPrescription type="HKVisionPrescriptionTypeGlasses" dateIssued="${issued}" expirationDate="2026-05-10 00:00:00 +0200" brand="Zeiss">\n` +
  `  <RightEye sphere="-1.25" sphereUnit="D" cylinder="-0.5" cylinderUnit="D" axis="90" axisUnit="deg"/>\n` +
  `  <LeftEye sphere="-1.5" sphereUnit="D" cylinder="-0.25" cylinderUnit="D" axis="85" axisUnit="deg"/>\n` +
  `  <Attachment identifier="5D0C3F1A-1111-4C6B-9E57-2A1B3C4D5E6F"/>\n` +
  ` </VisionPrescription>\n`;

async function importXml(xml: string): Promise<RecordInput[]> {
  const records: RecordInput[] = [];
  const sink: AppleHealthSink = { samples: (_: QuantitySample[]) => undefined, records: (b: RecordInput[]) => void records.push(...b) };
  const buf = Buffer.from(xml);
  await importAppleHealth({ xml: () => Readable.from([buf]), size: buf.length }, sink);
  return records.filter((r) => r.type !== 'HKCharacteristics');
}

describe('elements without a dedicated reader', () => {
  it('describes a VisionPrescription by its issue date and each eye under its own name', async () => {
    const [sut, ...rest] = await importXml(exportXml(glasses('2024-05-10 00:00:00 +0200'), DTD_V14));
    expect(rest).toEqual([]);
    expect(sut!.type).toBe('HKVisionPrescriptionTypeGlasses');
    expect(sut!.title).toBe('Vision prescription (glasses)');
    expect(sut!.occurredAt).toBe('2024-05-10T00:00:00+02:00');
    expect(sut!.text).toContain('issued 2024-05-10 00:00 (+0200)');
    expect(sut!.text).toContain('expirationDate 2026-05-10 00:00 (+0200), brand Zeiss');
    expect(sut!.text).toContain('Right eye: sphere -1.25 D, cylinder -0.5 D, axis 90 deg.');
    expect(sut!.text).toContain('Left eye: sphere -1.5 D, cylinder -0.25 D, axis 85 deg.');
    expect(sut!.text).toContain('Attachment: identifier 5D0C3F1A-1111-4C6B-9E57-2A1B3C4D5E6F.');
    expect(sut!.text).not.toMatch(/unknown date|unknown source|right eye entries/);
  });

  it('keeps two prescriptions of one kind apart by their issue dates', async () => {
    const records = await importXml(exportXml(glasses('2022-03-01 00:00:00 +0100') + glasses('2024-05-10 00:00:00 +0200'), DTD_V14));
    expect(records.map((r) => r.occurredAt)).toEqual(['2022-03-01T00:00:00+01:00', '2024-05-10T00:00:00+02:00']);
    expect(new Set(records.map((r) => r.externalId)).size).toBe(2);
  });

  it('reads the date of an element kind Apple adds later, and names each kind of child', () => {
    const sut = genericRecord(
      'HearingCheck',
      { type: 'HKHearingCheckTypeScreening', sourceName: 'Hearing', measuredDate: '2026-02-03 10:15:00 +0100', creationDate: '2026-02-04 08:00:00 +0100' },
      [{ key: 'HKMetadataKeySyncVersion', value: '1' }],
      [
        { name: 'Ear', attributes: { side: 'left', result: 'pass' } },
        { name: 'Ear', attributes: { side: 'right', result: 'refer' } },
        { name: 'Tone', attributes: { frequency: '1000', frequencyUnit: 'Hz' } },
      ],
    );
    expect(sut.title).toBe('Hearing check (screening)');
    expect(sut.occurredAt).toBe('2026-02-03T10:15:00+01:00');
    expect(sut.text).toBe(
      'Hearing check (screening) on 2026-02-03 10:15 (+0100), recorded by Hearing. ' +
        '2 ear entries: side left, result pass; side right, result refer. Tone: frequency 1000 Hz. Details: Sync version 1.',
    );
  });

  it('leaves the identity of elements dated by startDate as it was (Audiogram)', async () => {
    const xml = await import('node:fs/promises').then((fs) =>
      fs.readFile(fileURLToPath(new URL('./fixtures/opendroid-hk_sampleexport-2.xml', import.meta.url)), 'utf8'),
    );
    const sut = (await importXml(xml)).find((r) => r.type === 'HKDataTypeIdentifierAudiogram')!;
    expect(sut.externalId).toBe('Audiogram/xI6nao9NyI5uxWXy5335B3');
    expect(sut.externalVersion).toBe('y0QpfePMBcYZPTms9z2vEK');
    expect(sut.title).toBe('Audiogram');
    expect(sut.occurredAt).toBe('2021-01-22T20:30:50-08:00');
    expect(sut.text).toMatch(/^Audiogram on 2021-01-22 20:30 \(-0800\), recorded by Hearing Test\. 2 sensitivity point entries: frequencyValue 250, /);
  });
});
