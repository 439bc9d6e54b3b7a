import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseThumbnailSize, outputDimensions } from './thumbnailSizes.js';

test('it should round a request up to the smallest recommended size of its method', () => {
  assert.deepEqual(chooseThumbnailSize({ width: 24, height: 24, method: 'crop' }), { width: 32, height: 32, method: 'crop' });
  assert.deepEqual(chooseThumbnailSize({ width: 96, height: 96, method: 'crop' }), { width: 96, height: 96, method: 'crop' });
  assert.deepEqual(chooseThumbnailSize({ width: 96, height: 96, method: 'scale' }), { width: 320, height: 240, method: 'scale' });
  assert.deepEqual(chooseThumbnailSize({ width: 700, height: 100, method: 'scale' }), { width: 800, height: 600, method: 'scale' });
  // Larger than every recommended size: served at the asked size (clamped), never smaller.
  assert.deepEqual(chooseThumbnailSize({ width: 200, height: 150, method: 'crop' }), { width: 200, height: 150, method: 'crop' });
  assert.deepEqual(chooseThumbnailSize({ width: 5000, height: 900, method: 'scale' }), { width: 1920, height: 900, method: 'scale' });
});

test('it should keep the aspect ratio when scaling, be exact when cropping, and never upscale', () => {
  assert.deepEqual(outputDimensions(1000, 500, { width: 320, height: 240, method: 'scale' }), { width: 320, height: 160 });
  assert.deepEqual(outputDimensions(100, 50, { width: 320, height: 240, method: 'scale' }), { width: 100, height: 50 });
  assert.deepEqual(outputDimensions(1000, 500, { width: 96, height: 96, method: 'crop' }), { width: 96, height: 96 });
  assert.deepEqual(outputDimensions(150, 80, { width: 96, height: 96, method: 'crop' }), { width: 80, height: 80 });
  assert.deepEqual(outputDimensions(50, 40, { width: 96, height: 96, method: 'crop' }), { width: 40, height: 40 });
});
