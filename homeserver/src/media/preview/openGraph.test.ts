import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseOpenGraph } from './openGraph.js';

test('it should read og: meta tags in any attribute order and quoting, decoding entities', () => {
  const og = parseOpenGraph(`<!doctype html><html><head>
    <meta property="og:title" content="Tom &amp; Jerry&#39;s &#x1F600; page">
    <meta content='A "quoted" description' property='og:description' />
    <META PROPERTY=og:image CONTENT=/img/cat.png>
    <!-- <meta property="og:site_name" content="commented out"> -->
    <meta property="og:title" content="second title is ignored">
    <title>Fallback</title></head><body></body></html>`);
  assert.deepEqual(og, {
    'og:title': "Tom & Jerry's 😀 page",
    'og:description': 'A "quoted" description',
    'og:image': '/img/cat.png',
  });
});

test('it should fall back to the title and description meta tag, and shorten long descriptions', () => {
  const og = parseOpenGraph(`<html><head><title>
    Plain   page </title><meta name="description" content="${'x'.repeat(600)}"></head></html>`);
  assert.equal(og['og:title'], 'Plain page');
  assert.equal((og['og:description'] as string).length, 500);
  assert.deepEqual(parseOpenGraph('no markup at all'), {});
});
