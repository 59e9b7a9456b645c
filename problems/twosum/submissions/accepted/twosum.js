const data = require('fs').readFileSync(0, 'utf8').trim().split(/\s+/).map(Number);
const [n, target] = data;
const seen = new Map();
for (let j = 0; j < n; j++) {
  const v = data[2 + j];
  if (seen.has(target - v)) {
    console.log(`${seen.get(target - v) + 1} ${j + 1}`);
    break;
  }
  if (!seen.has(v)) seen.set(v, j);
}
