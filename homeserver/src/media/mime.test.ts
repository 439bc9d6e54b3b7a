import { test } from 'node:test';
import assert from 'node:assert/strict';
import { contentDisposition, declaredContentType, servedContentType, sniffContentType } from './mime.js';

const b = (s: string) => Buffer.from(s, 'latin1');

test('it should recognise common formats by their magic bytes and markup by its first tag', () => {
  assert.equal(sniffContentType(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0])), 'image/png');
  assert.equal(sniffContentType(Buffer.from([0xff, 0xd8, 0xff, 0xe0])), 'image/jpeg');
  assert.equal(sniffContentType(b('GIF89a....')), 'image/gif');
  assert.equal(sniffContentType(b('RIFF\0\0\0\0WEBPVP8 ')), 'image/webp');
  assert.equal(sniffContentType(b('%PDF-1.7')), 'application/pdf');
  assert.equal(sniffContentType(b('\0\0\0\x18ftypmp42')), 'video/mp4');
  assert.equal(sniffContentType(b('  <!DOCTYPE html><html>')), 'text/html');
  assert.equal(sniffContentType(b('<!-- hi --><SCRIPT>alert(1)</SCRIPT>')), 'text/html');
  assert.equal(sniffContentType(b('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg">')), 'image/svg+xml');
  assert.equal(sniffContentType(Buffer.from('\uFEFF<svg>', 'utf8')), 'image/svg+xml');
  assert.equal(sniffContentType(b('hello <b>world</b>')), undefined);
  assert.equal(sniffContentType(Buffer.alloc(0)), undefined);
});

test('it should keep the declared type, within the bounds the spec calls reasonable', () => {
  assert.equal(declaredContentType(undefined), 'application/octet-stream');
  assert.equal(declaredContentType('image/png\r\nX-Evil: 1'), 'application/octet-stream');
  assert.equal(declaredContentType('text/plain; charset=iso-8859-1'), 'text/plain; charset=iso-8859-1');
  assert.equal(servedContentType('image/png', 'image/png'), 'image/png');
  assert.equal(servedContentType('video/mp4', undefined), 'video/mp4');
  assert.equal(servedContentType('text/plain', undefined), 'text/plain; charset=utf-8');
  assert.equal(servedContentType('text/plain; charset=latin1', undefined), 'text/plain; charset=latin1');
  assert.equal(servedContentType('text/plain', 'text/html'), 'text/html');
  assert.equal(servedContentType('image/png', undefined), 'application/octet-stream');
  assert.equal(servedContentType('image/jpeg', 'text/html'), 'application/octet-stream');
});

test('it should show inline only the spec’s safe types and carry any file name unchanged', () => {
  assert.equal(contentDisposition('image/png', 'a.png'), 'inline; filename="a.png"');
  assert.equal(contentDisposition('text/plain; charset=utf-8', undefined), 'inline');
  assert.equal(contentDisposition('text/html', 'x.html'), 'attachment; filename="x.html"');
  assert.equal(contentDisposition('image/svg+xml', 'x.svg'), 'attachment; filename="x.svg"');
  assert.equal(contentDisposition('application/pdf', 'a "b".pdf'), `attachment; filename*=utf-8''a%20%22b%22.pdf`);
  assert.equal(contentDisposition('image/gif', "l'été (1).gif"), `inline; filename*=utf-8''l%27%C3%A9t%C3%A9%20%281%29.gif`);
  assert.equal(contentDisposition('text/plain', 'a\r\nSet-Cookie: x'), `inline; filename*=utf-8''a%0D%0ASet-Cookie%3A%20x`);
});
