import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProblemMemory, declaredProblem, orderProblemPicks } from '../src/problemChoice';
import type { ProblemSummary } from '../src/protocol';

class MemoryStore {
  readonly data = new Map<string, unknown>();
  get<T>(key: string): T | undefined {
    return this.data.get(key) as T | undefined;
  }
  async update(key: string, value: unknown): Promise<void> {
    // Stored values are copies, as VS Code's Memento serializes them.
    this.data.set(key, JSON.parse(JSON.stringify(value)));
  }
}

describe('ProblemMemory', () => {
  it('remembers the problem per file', async () => {
    const memory = new ProblemMemory(new MemoryStore());
    await memory.remember('file:///a.py', 'fizzbuzz');
    await memory.remember('file:///b.py', 'two-sum');
    assert.equal(memory.get('file:///a.py'), 'fizzbuzz');
    assert.equal(memory.get('file:///b.py'), 'two-sum');
    assert.equal(memory.get('file:///c.py'), undefined);
  });

  it('replaces and forgets a choice', async () => {
    const store = new MemoryStore();
    const memory = new ProblemMemory(store);
    await memory.remember('file:///a.py', 'fizzbuzz');
    await memory.remember('file:///a.py', 'two-sum');
    assert.equal(new ProblemMemory(store).get('file:///a.py'), 'two-sum');
    await memory.forget('file:///a.py');
    assert.equal(memory.get('file:///a.py'), undefined);
  });
});

describe('declaredProblem', () => {
  it('reads the first-line declaration in any comment syntax', () => {
    assert.equal(declaredProblem('# sandbox: problem=fizzbuzz'), 'fizzbuzz');
    assert.equal(declaredProblem('// sandbox: problem = two-sum'), 'two-sum');
    assert.equal(declaredProblem('-- sandbox:problem=a_b.c'), 'a_b.c');
    assert.equal(declaredProblem('print("hello")'), undefined);
  });
});

describe('orderProblemPicks', () => {
  const problems: ProblemSummary[] = [
    { id: 'two-sum', title: 'Two Sum', samples: 1, tests: 6 },
    { id: 'fizzbuzz', title: 'FizzBuzz', samples: 2, tests: 2 },
    { id: 'anagram', title: 'Anagrams', samples: 1, tests: 5 },
  ];

  it('sorts by title with counts of samples and hidden tests', () => {
    const picks = orderProblemPicks(problems, undefined, undefined);
    assert.deepEqual(picks.map((p) => p.id), ['anagram', 'fizzbuzz', 'two-sum']);
    assert.equal(picks[1].detail, '2 samples, 0 hidden tests');
    assert.equal(picks[2].detail, '1 sample, 5 hidden tests');
    assert.equal(picks[0].label, 'Anagrams');
  });

  it('puts the remembered problem first, then the declared one', () => {
    const picks = orderProblemPicks(problems, 'two-sum', 'fizzbuzz');
    assert.deepEqual(picks.map((p) => p.id), ['two-sum', 'fizzbuzz', 'anagram']);
    assert.equal(picks[0].description, 'two-sum · last used');
    assert.equal(picks[1].description, 'fizzbuzz · declared in file');
    assert.deepEqual(picks.map((p) => p.preferred), [true, true, false]);
  });
});
