/**
 * The stand-in's `/api/embed`: a deterministic bag-of-concepts embedding. Words of one row of
 * {@link CONCEPTS} share a dimension, so a paraphrase ("heart rhythm problems") lands near the
 * text it means ("paroxysmal atrial fibrillation") the way a real embedding model's would; any
 * other word is hashed into the remaining dimensions with a lower weight, so plain word overlap
 * still counts a little. Not a model: only enough meaning for tests to tell hybrid from keyword
 * retrieval.
 */
export const FAKE_EMBED_DIMS = 384;

/** Related terms, one concept per row (lowercase, singular). */
export const CONCEPTS: readonly string[] = [
  'rhythm arrhythmia fibrillation atrial palpitation irregular heartbeat afib flutter',
  'thinner anticoagulant anticoagulation apixaban warfarin clot clotting rivaroxaban',
  'gallbladder cholecystectomy gallstone biliary',
  'surgery operation laparoscopic operated excised excision removal removed surgical',
  'sleep night nocturnal asleep overnight snoring snore',
  'apnoea apnea breathing breath cpap respiratory airway',
  'cancer carcinoma melanoma malignant tumour tumor malignancy',
  'skin dermatology dermatologist cutaneous mole lesion',
  'face cheek facial nose forehead',
  'vision eye sight cataract ophthalmology optician myopia sighted ophthalmic',
  'back lumbar spine spinal disc sciatica vertebra',
  'pain ache aching hurt hurting painful',
  'thyroid hypothyroidism levothyroxine underactive thyroxine',
  'sugar glucose hba1c diabetes prediabetes diabetic glycaemic metformin',
  'kidney renal egfr nephrology creatinine',
  'anxiety worry worried nerve anxious panic sertraline',
  'pregnancy baby antenatal pregnant fetal foetal obstetric midwife',
  'scan ultrasound imaging sonography mri',
  'ear hearing tinnitus audiogram deaf ringing audiology',
  'headache migraine triptan sumatriptan',
  'sting stung wasp bee venom insect hornet',
  'hayfever rhinitis sneeze sneezing pollen',
  'cholesterol lipid statin atorvastatin ldl',
  'fracture break broke broken bone fractured',
  'stomach gastric reflux heartburn omeprazole indigestion acid',
  'knee joint arthritis osteoarthritis cartilage',
  'asthma wheeze wheezing wheezy inhaler salbutamol breathless',
  'anaemia anemia iron ferritin tired fatigue tiredness exhausted',
  'latex rubber glove',
  'animal dander pet cat dog fur',
  'egg omelette mayonnaise meringue',
  'laceration cut wound gash stitche suture',
  'forearm arm elbow',
  'pharyngitis throat tonsil tonsillitis',
  'dermatitis eczema itchy rash itch',
  'acetaminophen paracetamol tylenol painkiller analgesic',
  'bronchitis cough chest chesty bronchial',
  'isolation lonely loneliness alone isolated',
  'employment job work working employed career',
  'epinephrine adrenaline epipen injector',
  'fexofenadine antihistamine allegra cetirizine',
  'influenza flu',
  'covid coronavirus sars',
  'hemoglobin haemoglobin',
  'cardiology cardiologist heart cardiac',
  'dust mite',
  'teeth tooth dentist dental',
];

const STOP = new Set(
  'a an the and or of to in on at for with by from is are was were be been am do did does have has had i my me we you your it its this that these those what when where which who how any ever there about can could should would will all some get got need since last'.split(
    ' ',
  ),
);

const norm = (w: string) => (w.length > 3 && w.endsWith('s') && !w.endsWith('ss') ? w.slice(0, -1) : w);

const conceptOf = new Map<string, number>();
CONCEPTS.forEach((row, i) => row.split(' ').forEach((w) => conceptOf.set(norm(w), i)));

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

export function fakeEmbedding(text: string): number[] {
  const v = new Array<number>(FAKE_EMBED_DIMS).fill(0);
  const spare = FAKE_EMBED_DIMS - CONCEPTS.length;
  for (const raw of text.toLowerCase().split(/[^\p{L}\p{N}]+/u)) {
    if (raw.length < 2 || STOP.has(raw)) continue;
    const w = norm(raw);
    const c = conceptOf.get(w);
    if (c !== undefined) v[c]! += 1;
    else v[CONCEPTS.length + (hash(w) % spare)]! += 0.3;
  }
  let sum = 0;
  for (const x of v) sum += x * x;
  const inv = sum > 0 ? 1 / Math.sqrt(sum) : 0;
  return v.map((x) => x * inv);
}
