import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderStatement } from '../src/markdown.js';

test('statement Markdown renders headings, emphasis and code', () => {
  const html = renderStatement('## Input\nOne integer *n*, then `x`.');
  assert.match(html, /<h2>Input<\/h2>/);
  assert.match(html, /<em>n<\/em>/);
  assert.match(html, /<code>x<\/code>/);
});

test('raw HTML in a statement is shown as text, never as markup', () => {
  const html = renderStatement('<script>alert(1)</script><img src=x onerror=alert(2)>');
  assert.doesNotMatch(html, /<script|<img/i);
  assert.match(html, /&lt;script&gt;/);
});

test('javascript: and data: links are not made into links', () => {
  const html = renderStatement('[a](javascript:alert(1)) [b](data:text/html,<b>x</b>) [c](JAVASCRIPT:alert(1))');
  assert.doesNotMatch(html, /href="(javascript|data):/i);
});

test('ordinary links open in a new tab without an opener', () => {
  const html = renderStatement('[docs](https://example.org/x)');
  assert.match(html, /<a href="https:\/\/example.org\/x" target="_blank" rel="noopener noreferrer">docs<\/a>/);
});

test('undefined or null statements render as nothing', () => {
  assert.equal(renderStatement(undefined), '');
  assert.equal(renderStatement(null), '');
});
