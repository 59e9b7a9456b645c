import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseTypedInput } from '../src/input';
import { renderProblemMarkdown } from '../src/problemMarkdown';

describe('renderProblemMarkdown', () => {
  const problem = {
    id: 'fizzbuzz',
    title: 'FizzBuzz',
    statementMarkdown: 'Print the numbers from 1 to *n*.\n',
    timeLimitSeconds: 1,
    memoryLimitMb: 256,
    samples: [{ name: 'sample-1', input: '3\n', output: '1\n2\nFizz\n' }],
    hiddenTests: 4,
  };

  it('renders title, limits, statement, samples and the hidden test count', () => {
    const md = renderProblemMarkdown(problem);
    assert.match(md, /^# FizzBuzz\n/);
    assert.match(md, /time limit 1 s · memory limit 256 MB/);
    assert.match(md, /Print the numbers from 1 to \*n\*\./);
    assert.match(md, /### sample-1\n\n\*\*Input\*\*\n\n```text\n3\n```/);
    assert.match(md, /\*\*Output\*\*\n\n```text\n1\n2\nFizz\n```/);
    assert.match(md, /Plus 4 hidden tests/);
  });

  it('keeps a sample that contains backticks inside its fence', () => {
    const md = renderProblemMarkdown({ ...problem, samples: [{ name: 's', input: '```\n', output: 'x' }], hiddenTests: 0 });
    assert.match(md, /````text\n```\n````/);
    assert.doesNotMatch(md, /hidden/);
  });
});

describe('parseTypedInput', () => {
  it('turns escapes into new lines and ends with one', () => {
    assert.equal(parseTypedInput('3\\n5'), '3\n5\n');
    assert.equal(parseTypedInput('a\\tb\\\\n'), 'a\tb\\n\n');
    assert.equal(parseTypedInput('done\\n'), 'done\n');
    assert.equal(parseTypedInput(''), '');
  });
});
