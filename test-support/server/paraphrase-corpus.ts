/**
 * Documents of our own (written for these tests; no real person) and paraphrased questions over
 * them and the sample FHIR records, for hybrid retrieval: each question shares no word with the
 * item it wants, so BM25 alone cannot find it. Paged documents separate pages with a form feed,
 * as extracted PDF text does.
 */
export interface CorpusDoc {
  title: string;
  kind: 'note' | 'document';
  text: string;
  occurredAt: string;
}

export const DOCS: CorpusDoc[] = [
  {
    title: 'Letter from Dr. Okafor, cardiology',
    kind: 'document',
    occurredAt: '2026-03-10T09:00:00Z',
    text: 'Thank you for referring Mr Jones, seen in clinic on 3 March.\n\nHe describes episodes of a fluttering sensation lasting minutes.\f24-hour Holter monitoring confirmed paroxysmal atrial fibrillation.\n\nWe started apixaban 5 mg twice daily and will review in three months.',
  },
  {
    title: 'Discharge summary, Riverside Hospital',
    kind: 'document',
    occurredAt: '2025-06-14T12:00:00Z',
    text: 'Admitted 12 June with right upper quadrant colic and vomiting.\fLaparoscopic cholecystectomy performed on 13 June without complication. Gallstones confirmed.\fFollow-up: wound check with the practice nurse in ten days.',
  },
  {
    title: 'Polysomnography report',
    kind: 'document',
    occurredAt: '2024-11-02T08:00:00Z',
    text: 'Study showed obstructive sleep apnoea, AHI 31 events per hour. CPAP titrated to 9 cmH2O.',
  },
  {
    title: 'Dermatology clinic letter',
    kind: 'document',
    occurredAt: '2025-02-20T10:00:00Z',
    text: 'Basal cell carcinoma, 6 mm, excised from the left cheek with 3 mm margins. Histology: clear margins.',
  },
  {
    title: 'Optometry review',
    kind: 'note',
    occurredAt: '2025-09-01T10:00:00Z',
    text: 'Early nuclear cataract in the right eye; myopia -3.50 both eyes. New spectacles ordered.',
  },
  {
    title: 'Physiotherapy assessment',
    kind: 'document',
    occurredAt: '2025-04-11T15:00:00Z',
    text: 'L4/L5 disc herniation with left-sided sciatica. Core stability exercises twice daily.',
  },
  {
    title: 'Endocrinology letter',
    kind: 'document',
    occurredAt: '2024-08-05T09:30:00Z',
    text: 'Hypothyroidism confirmed, TSH 9.8. Levothyroxine 75 micrograms each morning.',
  },
  {
    title: 'Annual review with the practice nurse',
    kind: 'note',
    occurredAt: '2026-01-15T11:00:00Z',
    text: 'HbA1c 48 mmol/mol, in the prediabetes range. Metformin 500 mg started with meals.',
  },
  {
    title: 'Nephrology clinic letter',
    kind: 'document',
    occurredAt: '2025-10-07T14:00:00Z',
    text: 'eGFR 52, chronic kidney disease stage 3a, stable since last year.',
  },
  {
    title: 'Mental health assessment',
    kind: 'document',
    occurredAt: '2025-05-19T13:00:00Z',
    text: 'Generalised anxiety disorder. Sertraline 50 mg daily and a CBT referral.',
  },
  {
    title: 'Anomaly ultrasound',
    kind: 'document',
    occurredAt: '2026-07-08T10:00:00Z',
    text: 'Ultrasound at 20 weeks: fetal growth normal, placenta anterior, no anomalies seen.',
  },
  {
    title: 'Audiology report',
    kind: 'document',
    occurredAt: '2025-12-01T09:00:00Z',
    text: 'Bilateral high-frequency tinnitus; audiogram shows mild loss above 4 kHz.',
  },
  {
    title: 'Neurology letter',
    kind: 'document',
    occurredAt: '2024-03-22T16:00:00Z',
    text: 'Migraine without aura, four attacks a month. Sumatriptan 50 mg at onset.',
  },
  {
    title: 'Gastroenterology letter',
    kind: 'document',
    occurredAt: '2025-01-30T10:00:00Z',
    text: 'Gastro-oesophageal reflux; omeprazole 20 mg before breakfast.',
  },
  {
    title: 'Rheumatology letter',
    kind: 'document',
    occurredAt: '2026-02-12T10:00:00Z',
    text: 'Osteoarthritis of the right knee, moderate cartilage loss on X-ray.',
  },
  {
    title: 'Respiratory clinic letter',
    kind: 'document',
    occurredAt: '2025-08-18T10:00:00Z',
    text: 'Asthma well controlled on salbutamol as needed and beclometasone twice daily.',
  },
  {
    title: 'Haematology letter',
    kind: 'document',
    occurredAt: '2026-04-02T10:00:00Z',
    text: 'Iron deficiency anaemia, ferritin 8 ug/L. Ferrous sulfate 200 mg once daily.',
  },
  { title: 'Lipid clinic letter', kind: 'document', occurredAt: '2025-11-11T10:00:00Z', text: 'LDL 4.1 mmol/L; atorvastatin 20 mg at bedtime.' },
  {
    title: 'Fracture clinic letter',
    kind: 'document',
    occurredAt: '2023-12-28T10:00:00Z',
    text: 'Distal radius fracture, left wrist, in a cast for six weeks.',
  },
];

/** A question and the title of the item it is about (a prefix is enough); `page` where the answer is on one. */
export interface Paraphrase {
  q: string;
  want: string;
  page?: number;
}

export const QUESTIONS: Paraphrase[] = [
  { q: 'any heart rhythm problems?', want: 'Letter from Dr. Okafor', page: 2 },
  { q: 'am I taking a blood thinner?', want: 'Letter from Dr. Okafor', page: 2 },
  { q: 'when was my gallbladder taken out?', want: 'Discharge summary', page: 2 },
  { q: 'do I stop breathing at night?', want: 'Polysomnography report' },
  { q: 'was the skin cancer on my face removed?', want: 'Dermatology clinic letter' },
  { q: 'how is my vision?', want: 'Optometry review' },
  { q: 'am I short sighted?', want: 'Optometry review' },
  { q: 'what did they say about my lower back pain?', want: 'Physiotherapy assessment' },
  { q: 'which tablet for my underactive thyroid?', want: 'Endocrinology letter' },
  { q: 'how is my blood sugar control?', want: 'Annual review with the practice nurse' },
  { q: 'how is my renal function?', want: 'Nephrology clinic letter' },
  { q: 'what am I on for worry and nerves?', want: 'Mental health assessment' },
  { q: 'how was the baby scan?', want: 'Anomaly ultrasound' },
  { q: 'why are my ears ringing?', want: 'Audiology report' },
  { q: 'what helps my bad headaches?', want: 'Neurology letter' },
  { q: 'what do I take for heartburn?', want: 'Gastroenterology letter' },
  { q: 'is my arthritis getting worse?', want: 'Rheumatology letter' },
  { q: 'which inhaler do I use when wheezy?', want: 'Respiratory clinic letter' },
  { q: 'why am I always so tired?', want: 'Haematology letter' },
  { q: 'what about my cholesterol?', want: 'Lipid clinic letter' },
  { q: 'when did I break a bone?', want: 'Fracture clinic letter' },
  { q: 'what happens if a wasp stings me?', want: 'Allergy: Bee venom' },
  { q: 'does my cat make me sneeze?', want: 'Allergy: Animal dander' },
  { q: 'can I eat an omelette?', want: 'Allergy: Eggs' },
  { q: 'should I avoid rubber gloves?', want: 'Allergy: Latex' },
  { q: 'did I need stitches on my arm?', want: 'Laceration of forearm' },
  { q: 'that sore throat I had', want: 'Acute viral pharyngitis' },
  { q: 'itchy eczema flare', want: 'Atopic dermatitis' },
  { q: 'the chesty cough from before', want: 'Acute bronchitis' },
  { q: 'have I been lonely lately?', want: 'Social isolation' },
  { q: 'do I have a job?', want: 'Full-time employment' },
  { q: 'where is my adrenaline pen?', want: 'NDA020800 0.3 ML Epinephrine' },
  { q: 'is allegra still on my list?', want: 'Fexofenadine' },
  { q: 'am I protected against flu?', want: 'Immunization: Influenza' },
  { q: 'coronavirus protection', want: 'Immunization: SARS-COV-2' },
  { q: 'did I take paracetamol?', want: 'Acetaminophen' },
];
