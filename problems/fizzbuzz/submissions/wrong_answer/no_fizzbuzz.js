// Forgets the FizzBuzz case (prints Fizz for multiples of 15): passes the first sample, fails the second.
const n = parseInt(require('fs').readFileSync(0, 'utf8'), 10);
for (let i = 1; i <= n; i++) {
  console.log(i % 3 === 0 ? 'Fizz' : i % 5 === 0 ? 'Buzz' : String(i));
}
