import * as assert from 'node:assert/strict';
import * as vm from 'node:vm';
import { buildWebviewHtml, contentSecurityPolicy, inlineScript, inlineStyle } from '../../../src/extension/host/html';

describe('webview HTML', () => {
  it('inlined script text cannot end or confuse its <script> element, and still means the same', () => {
    const source = [
      'var a = "</script><script>alert(1)</script>";',
      'var b = `<!--${1}-->`;',
      "var c = /<\\/SCRIPT>/i.test('</SCRIPT>');",
      'var d = "<Script src=x>";',
      'result = JSON.stringify([a, b, c, d]);',
    ].join('\n');
    const inlined = inlineScript(`${source}\n//# sourceMappingURL=webview.js.map`);
    assert.doesNotMatch(inlined, /<\/?script|<!--/i);
    assert.doesNotMatch(inlined, /sourceMappingURL/);
    const run = (code: string): unknown => {
      const ctx: { result?: unknown } = {};
      vm.runInNewContext(code, ctx);
      return ctx.result;
    };
    assert.equal(run(inlined), run(source));
    assert.equal(run(source), JSON.stringify(['</script><script>alert(1)</script>', '<!--1-->', true, '<Script src=x>']));
  });

  it('inlined stylesheet cannot close its <style> element', () => {
    const css = inlineStyle('a::after { content: "</style><script>x</script>"; }\n/*# sourceMappingURL=x.map */');
    assert.doesNotMatch(css, /<\/style/i);
    assert.doesNotMatch(css, /sourceMappingURL/);
  });

  it('the page has exactly one script and one style element, both under the nonce, and nothing remote', () => {
    const html = buildWebviewHtml({ nonce: 'abc123', script: 'var s = "</script>";', style: 'p{color:red}', title: 'a <b> & "c"' });
    assert.equal(html.match(/<script\b/gi)?.length, 1);
    assert.equal(html.match(/<\/script>/gi)?.length, 1);
    assert.match(html, /<script nonce="abc123">/);
    assert.match(html, /<style nonce="abc123">/);
    assert.match(html, /<title>a &lt;b&gt; &amp; &quot;c&quot;<\/title>/);
    assert.doesNotMatch(html, /\b(src|href)=/);
  });

  it('the CSP allows only nonce-tagged script and style, data: images and nothing else', () => {
    const csp = contentSecurityPolicy('n0nce');
    const directives = new Map(csp.split('; ').map((d) => [d.split(' ')[0], d.split(' ').slice(1).join(' ')]));
    assert.equal(directives.get('default-src'), "'none'");
    assert.equal(directives.get('script-src'), "'nonce-n0nce'");
    assert.equal(directives.get('style-src'), "'nonce-n0nce'");
    assert.equal(directives.get('img-src'), 'data:');
    assert.doesNotMatch(csp, /unsafe|https?:|\*/);
  });
});
