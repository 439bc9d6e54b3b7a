// Glob matching and dot-separated property paths, as push rule conditions use them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { globMatches, globToRegExp } from './glob.js';
import { splitPath, valueAtPath } from './propertyPath.js';

test('it should match globs against the whole value, case-insensitively', () => {
  const cases: Array<[pattern: string, value: string, expected: boolean]> = [
    ['lunc?*', 'Lunch plans', true],
    ['lunc?*', 'LUNCH', true],
    ['lunc?*', ' lunch', false],
    ['lunc?*', 'lunc', false],
    ['m.notice', 'm.notice', true],
    ['m.notice', 'mXnotice', false], // `.` is literal, not "any character"
    ['m.room.*', 'm.room.message', true],
    ['*', '', true],
    ['?', '', false],
    ['a?c', 'a\nc', true],
    ['a*c', 'ab\nbc', true],
    ['(x)[y]+{z}|^$\\', '(x)[y]+{z}|^$\\', true],
    ['@alice:example.org', '@alice:example.org', true],
    ['@alice:example.org', '@alice:example.org.evil', false],
    ['caf?', 'café', true],
    ['?', '😀', true],
  ];
  for (const [pattern, value, expected] of cases) {
    assert.equal(globMatches(pattern, value), expected, `${pattern} vs ${JSON.stringify(value)}`);
  }
});

test('it should match content.body globs on any substring bounded by word boundaries', () => {
  const cases: Array<[pattern: string, value: string, expected: boolean]> = [
    ['ex*ple', 'An example event.', true],
    ['ex*ple', 'exple', true],
    ['ex*ple', 'An exciting triple-whammy', true],
    ['cake', 'I like cake!', true],
    ['cake', 'I like cakes', false],
    ['cake', 'pancake', false],
    ['cake', 'CAKE', true],
    ['cake', 'my_cake', false], // `_` is a word character
    ['cake', 'cake_', false],
    ['cake', '(cake)', true],
    ['@room', 'hi @room there', true],
    ['alice', 'hey alice: ping', true],
    ['cake*lie', 'the cake is a lie', true],
  ];
  for (const [pattern, value, expected] of cases) {
    assert.equal(globMatches(pattern, value, true), expected, `${pattern} in ${JSON.stringify(value)}`);
  }
});

test('it should compile each glob once and reuse the RegExp', () => {
  assert.equal(globToRegExp('some*pattern'), globToRegExp('some*pattern'));
  assert.notEqual(globToRegExp('some*pattern'), globToRegExp('some*pattern', true));
});

test('it should split dot-separated paths with \\. and \\\\ escapes and leave other escapes alone', () => {
  assert.deepEqual(splitPath('content.body'), ['content', 'body']);
  assert.deepEqual(splitPath('content.m\\.relates_to.rel_type'), ['content', 'm.relates_to', 'rel_type']);
  assert.deepEqual(splitPath('content.m\\\\foo'), ['content', 'm\\foo']);
  assert.deepEqual(splitPath('content.m\\\\.foo'), ['content', 'm\\', 'foo']);
  assert.deepEqual(splitPath('content.a\\xb'), ['content', 'a\\xb']);
  assert.deepEqual(splitPath('type'), ['type']);
});

test('it should look values up along a path, never into arrays or missing keys', () => {
  const ev = {
    type: 'm.room.message',
    content: { 'm.relates_to': { rel_type: 'm.replace' }, 'm\\foo': 1, list: [{ a: 1 }], nested: { 'a.b': { c: 'deep' } } },
  };
  assert.equal(valueAtPath(ev, 'content.m\\.relates_to.rel_type'), 'm.replace');
  assert.equal(valueAtPath(ev, 'content.m.relates_to.rel_type'), undefined);
  assert.equal(valueAtPath(ev, 'content.m\\\\foo'), 1);
  assert.equal(valueAtPath(ev, 'content.nested.a\\.b.c'), 'deep');
  assert.equal(valueAtPath(ev, 'content.list.0.a'), undefined);
  assert.equal(valueAtPath(ev, 'content.toString'), undefined);
  assert.equal(valueAtPath(ev, 'content.missing.deeper'), undefined);
});
