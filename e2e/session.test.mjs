// Issue 14 in Chromium: the serve session is bound to one server instance. Another local server (another port of
// 127.0.0.1: cookies ignore ports) never receives the token or a session cookie, its page cannot crash or log us out
// with a planted malformed cookie, and two Constellate servers in one browser stay logged in together.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, test } from 'node:test';
import { launch, startServe, watchPage } from './harness.mjs';

let a, b, browser, spy, spyPort;
const seen = []; // every request the other local server got: path and Cookie header
before(async () => {
  [a, b] = await Promise.all([startServe(), startServe()]);
  browser = await launch();
  spy = createServer((req, res) => {
    seen.push({ path: req.url, cookie: req.headers.cookie ?? '' });
    res.writeHead(200, { 'content-type': 'text/html' });
    // a hostile local page: plants a cookie that used to crash serve mode, and one under the old cookie name
    res.end(`<!doctype html><title>other</title><script>
      document.cookie = 'other=%E0%A4%A; path=/';
      document.cookie = 'cst_token=planted; path=/';
      fetch('/probe', { credentials: 'include' });
    </script>`);
  });
  await new Promise((ok) => spy.listen(0, '127.0.0.1', ok));
  spyPort = /** @type {import('node:net').AddressInfo} */ (spy.address()).port;
});
after(async () => { await browser?.close(); await a?.stop(); await b?.stop(); spy?.close(); });

const api = (page, m) => page.evaluate(async (method) => {
  const r = await fetch(`api/${method}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-constellate-csrf': '1' }, body: '' });
  return { status: r.status, body: await r.json() };
}, m);

test('another local origin never gets the session; two servers stay logged in together', async () => {
  const ctx = await browser.newContext();
  const pa = await ctx.newPage(), pb = await ctx.newPage();
  const problems = [...[pa, pb].map((p) => watchPage(p))];
  await pa.goto(a.url);
  await pb.goto(b.url);
  assert.ok(!pa.url().includes('token=') && !pb.url().includes('token='));
  await pa.getByTestId('library-view').waitFor();
  await pb.getByTestId('library-view').waitFor();
  const cookies = await ctx.cookies();
  const ours = cookies.filter((c) => c.name.startsWith('cst_'));
  assert.equal(ours.length, 2, JSON.stringify(cookies));
  assert.notEqual(ours[0].name, ours[1].name);
  for (const c of ours) { assert.ok(c.httpOnly); assert.equal(c.sameSite, 'Strict'); assert.match(c.path, /^\/s\/[A-Za-z0-9_-]+\/$/); }

  // the other server's page, at its root and under both of our paths' shapes
  const po = await ctx.newPage();
  for (const path of ['/', '/s/', '/api/getInfo', '/events']) await po.goto(`http://127.0.0.1:${spyPort}${path}`);
  await po.waitForTimeout(300);
  assert.ok(seen.length >= 4, `the other server was reached (${seen.length})`);
  for (const r of seen) {
    assert.ok(!r.cookie.includes(a.token) && !r.cookie.includes(b.token), `token sent to another port: ${r.path}`);
    for (const c of ours) assert.ok(!r.cookie.includes(c.value) && !r.cookie.includes(c.name), `session cookie sent to another port: ${r.path} ${r.cookie}`);
  }
  // that page cannot read it either, nor call our API with it
  const fromOther = await po.evaluate(async (port) => {
    let status;
    try { status = (await fetch(`http://127.0.0.1:${port}/api/getInfo`, { method: 'POST', body: '[]', credentials: 'include' })).status; } catch (e) { status = `blocked: ${e.message}`; }
    return { cookie: document.cookie, status };
  }, a.port);
  assert.ok(!fromOther.cookie.includes('cst_1') && !/cst_\d+_/.test(fromOther.cookie), fromOther.cookie);
  assert.notEqual(fromOther.status, 200);

  // the planted cookies reach both servers now: neither crashes, both keep their session
  for (const [p, s] of [[pa, a], [pb, b]]) {
    await p.reload();
    await p.getByTestId('library-view').waitFor();
    const r = await api(p, 'getInfo');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.result.photos, 0);
    assert.equal((await fetch(`http://127.0.0.1:${s.port}/api/getInfo`, { method: 'POST', body: '', headers: { 'x-constellate-token': s.token } })).status, 200);
  }
  // logging in again to one does not log out the other
  await pa.goto(a.url);
  assert.equal((await api(pb, 'getInfo')).status, 200);
  assert.equal((await api(pa, 'getInfo')).status, 200);
  assert.deepEqual(problems.flat().filter((p) => !p.includes(`:${spyPort}`)), []);
  await ctx.close();
});
