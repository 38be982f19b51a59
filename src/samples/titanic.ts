import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { finished } from 'node:stream/promises';
import { SeededRandom } from './random.ts';

/** Kaggle's Titanic layout, as Mage's example_pipeline loads it. */
export const TITANIC_HEADER = 'PassengerId,Survived,Pclass,Name,Sex,Age,SibSp,Parch,Ticket,Fare,Cabin,Embarked';

const FIRST = ['Owen', 'John', 'William', 'Florence', 'Laina', 'Lily', 'James', 'Mary', 'Elizabeth', 'Thomas', 'Anna', 'Henry'];
const LAST = ['Braund', 'Cumings', 'Heikkinen', 'Futrelle', 'Allen', 'Moran', 'McCarthy', 'Palsson', 'Johnson', 'Nasser'];

/**
 * A Titanic-shaped CSV generated offline (the real file is not ours to ship):
 * quoted names with commas, ~20% missing ages, mostly missing cabins, a few
 * missing embarkation ports — the nulls the example pipeline fills with medians.
 */
export async function writeTitanicSample(path: string, options: { rows?: number; seed?: number } = {}): Promise<void> {
  const rows = options.rows ?? 891;
  const random = new SeededRandom(options.seed ?? 1912);
  await mkdir(dirname(path), { recursive: true });
  const out = createWriteStream(path);
  out.write(`${TITANIC_HEADER}\n`);
  for (let id = 1; id <= rows; id++) {
    const pclass = random.next() < 0.24 ? 1 : random.next() < 0.27 ? 2 : 3;
    const female = random.next() < 0.35;
    const survived = random.next() < (female ? 0.74 : 0.19) ? 1 : 0;
    const age = random.next() < 0.2 ? '' : String(Math.max(0.42, Math.round(random.next() * 70 * 10) / 10));
    const title = female ? (random.next() < 0.5 ? 'Mrs.' : 'Miss.') : 'Mr.';
    const name = `"${LAST[Math.floor(random.next() * LAST.length)]}, ${title} ${FIRST[Math.floor(random.next() * FIRST.length)]}"`;
    const sibsp = random.next() < 0.7 ? 0 : Math.floor(random.next() * 4);
    const parch = random.next() < 0.75 ? 0 : Math.floor(random.next() * 3);
    const fare = (pclass === 1 ? 30 + random.next() * 200 : pclass === 2 ? 10 + random.next() * 30 : 7 + random.next() * 10).toFixed(4);
    const cabin = pclass === 1 && random.next() < 0.8 ? `C${Math.floor(random.next() * 120)}` : '';
    const embarked = random.next() < 0.003 ? '' : random.next() < 0.72 ? 'S' : random.next() < 0.7 ? 'C' : 'Q';
    out.write(
      `${id},${survived},${pclass},${name},${female ? 'female' : 'male'},${age},${sibsp},${parch},A/5 ${21000 + id},${fare},${cabin},${embarked}\n`,
    );
  }
  out.end();
  await finished(out);
}
