/**
 * The atlas renderer (framework-free, used by AtlasMap.vue and measured by bench/atlas.mts): every item as a point in
 * one WebGL2 draw call, and, when zoomed in far enough that few items are on screen, the visible items as thumbnails
 * (level of detail) drawn from a texture atlas (2048 x 2048 pages of 64 px cells, filled lazily from the thumbnail
 * cache's URLs, least recently used cells reused). Cluster names are drawn at their centres on a 2-D overlay.
 * Colours are per-point RGBA (from getMapField's codes and legend), so a colour change is one buffer upload.
 *
 * For speed under software WebGL (SwiftShader) the items are bucketed on a 128 x 128 grid at setData and uploaded in
 * grid order: a frame draws only the grid rows and columns on screen (one draw call per visible row, culling to the
 * viewport), the visibility scan, picking and lasso look at the cells in range only, atlas pages are allocated when
 * thumbnails are first needed, and decoded thumbnails are uploaded at most UPLOADS_PER_FRAME per frame.
 */

/** A name drawn at a group's centre; give them largest group first (overlapping ones are left out). */
export interface AtlasLabel { text: string; x: number; y: number }

const CELL = 64, PAGE = 2048, PER_ROW = PAGE / CELL, PER_PAGE = PER_ROW * PER_ROW;
const G = 128, UPLOADS_PER_FRAME = 48, REFRESH_MS = 150;

const VS_POINTS = `#version 300 es
layout(location = 0) in vec2 pos; layout(location = 1) in vec4 col;
uniform vec2 scale; uniform vec2 offset; uniform float size;
out vec4 vcol;
void main() { gl_Position = vec4(pos * scale + offset, 0.0, 1.0); gl_PointSize = size; vcol = col; }`;
const FS_POINTS = `#version 300 es
precision mediump float; in vec4 vcol; out vec4 o;
void main() { vec2 d = gl_PointCoord - 0.5; if (dot(d, d) > 0.25) discard; o = vcol; }`;
/** small points (far out, <= 3 px) as squares: no discard, which SwiftShader rasterizes much faster */
const FS_SQUARES = `#version 300 es
precision mediump float; in vec4 vcol; out vec4 o;
void main() { o = vcol; }`;
const VS_QUADS = `#version 300 es
in vec2 pos; in vec2 uv; in vec4 col;
uniform vec2 scale; uniform vec2 offset;
out vec2 vuv; out vec4 vcol;
void main() { gl_Position = vec4(pos * scale + offset, 0.0, 1.0); vuv = uv; vcol = col; }`;
// a quad with uv < 0 is a thumbnail's frame in its item's colour; a textured quad takes its item's alpha (dimmed, hidden)
const FS_QUADS = `#version 300 es
precision mediump float; in vec2 vuv; in vec4 vcol; uniform sampler2D tex; out vec4 o;
void main() { if (vuv.x < 0.0) o = vcol; else o = vec4(texture(tex, vuv).rgb, vcol.a); }`;

function program(gl: WebGL2RenderingContext, vs: string, fs: string): WebGLProgram {
  const p = gl.createProgram()!;
  for (const [type, src] of [[gl.VERTEX_SHADER, vs], [gl.FRAGMENT_SHADER, fs]] as const) {
    const s = gl.createShader(type)!;
    gl.shaderSource(s, src);
    gl.compileShader(s);
    if (!gl.getShaderParameter(s, gl.COMPILE_STATUS)) throw new Error(`atlas shader: ${gl.getShaderInfoLog(s)}`);
    gl.attachShader(p, s);
  }
  gl.linkProgram(p);
  if (!gl.getProgramParameter(p, gl.LINK_STATUS)) throw new Error(`atlas program: ${gl.getProgramInfoLog(p)}`);
  return p;
}

export interface AtlasOptions {
  /** URL of item i's thumbnail (null: none, drawn as a point) */
  thumbUrl: (i: number) => string | null;
  /** thumbnails appear when fewer than this many items are on screen (default 1500) */
  lodItems?: number;
  /** atlas pages (each 1024 thumbnails; default 2) */
  pages?: number;
}

export class AtlasRenderer {
  readonly gl: WebGL2RenderingContext;
  private n = 0;
  private xy: Float32Array = new Float32Array(0);
  /** grid order: sorted position -> item; cell -> first sorted position (G*G + 1 entries); xy in grid order */
  private order: Int32Array = new Int32Array(0);
  private start: Int32Array = new Int32Array(G * G + 1);
  private sxy: Float32Array = new Float32Array(0);
  private pending: Array<{ item: number; cell: number; img: HTMLImageElement }> = [];
  private scratch: HTMLCanvasElement | null = null;
  private npages: number;
  /** colours in item order (thumbnails take their frame and alpha from them) */
  private rgba: Uint8Array = new Uint8Array(0);
  private pts: WebGLProgram; private squares: WebGLProgram; private quads: WebGLProgram;
  /** label text widths, measured once per label set */
  private widths = new Map<string, number>();
  private posBuf: WebGLBuffer; private colBuf: WebGLBuffer; private quadBuf: WebGLBuffer;
  private vaoPts: WebGLVertexArrayObject; private vaoQuads: WebGLVertexArrayObject;
  private pages: WebGLTexture[] = [];
  /** item -> atlas cell; cell -> item; last use per cell */
  private cellOf = new Map<number, number>();
  private itemIn: Int32Array;
  private used: Float64Array;
  private loading = new Set<number>();
  private bounds = { x0: 0, y0: 0, x1: 1, y1: 1 };
  /** the view: centre in data units and zoom (1 = the whole map fits) */
  view = { cx: 0.5, cy: 0.5, zoom: 1 };
  labels: AtlasLabel[] = [];
  /** items drawn as thumbnails in the last frame */
  lastThumbs = 0;
  private frameTick = 0;
  onNeedsFrame: (() => void) | null = null;

  constructor(readonly canvas: HTMLCanvasElement, readonly overlay: HTMLCanvasElement | null, readonly opts: AtlasOptions) {
    const gl = canvas.getContext('webgl2', { antialias: false, preserveDrawingBuffer: true });
    if (!gl) throw new Error('WebGL2 is not available');
    this.gl = gl;
    this.pts = program(gl, VS_POINTS, FS_POINTS);
    this.squares = program(gl, VS_POINTS, FS_SQUARES);
    this.quads = program(gl, VS_QUADS, FS_QUADS);
    this.posBuf = gl.createBuffer()!; this.colBuf = gl.createBuffer()!; this.quadBuf = gl.createBuffer()!;
    this.vaoPts = gl.createVertexArray()!;
    gl.bindVertexArray(this.vaoPts);
    const lp = gl.getAttribLocation(this.pts, 'pos'), lc = gl.getAttribLocation(this.pts, 'col');
    gl.bindBuffer(gl.ARRAY_BUFFER, this.posBuf); gl.enableVertexAttribArray(lp); gl.vertexAttribPointer(lp, 2, gl.FLOAT, false, 0, 0);
    gl.bindBuffer(gl.ARRAY_BUFFER, this.colBuf); gl.enableVertexAttribArray(lc); gl.vertexAttribPointer(lc, 4, gl.UNSIGNED_BYTE, true, 0, 0);
    this.vaoQuads = gl.createVertexArray()!;
    gl.bindVertexArray(this.vaoQuads);
    const qp = gl.getAttribLocation(this.quads, 'pos'), qu = gl.getAttribLocation(this.quads, 'uv'), qc = gl.getAttribLocation(this.quads, 'col');
    gl.bindBuffer(gl.ARRAY_BUFFER, this.quadBuf);
    gl.enableVertexAttribArray(qp); gl.vertexAttribPointer(qp, 2, gl.FLOAT, false, 32, 0);
    gl.enableVertexAttribArray(qu); gl.vertexAttribPointer(qu, 2, gl.FLOAT, false, 32, 8);
    gl.enableVertexAttribArray(qc); gl.vertexAttribPointer(qc, 4, gl.FLOAT, false, 32, 16);
    gl.bindVertexArray(null);
    const np = opts.pages ?? 2;
    this.npages = np;
    this.itemIn = new Int32Array(np * PER_PAGE).fill(-1);
    this.used = new Float64Array(np * PER_PAGE);
  }

  /** The atlas pages, allocated on first use (a map that is never zoomed in never pays for them). */
  private ensurePages(): void {
    const gl = this.gl;
    while (this.pages.length < this.npages) {
      const t = gl.createTexture()!;
      gl.bindTexture(gl.TEXTURE_2D, t);
      gl.texStorage2D(gl.TEXTURE_2D, 1, gl.RGBA8, PAGE, PAGE);
      gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.LINEAR);
      gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.LINEAR);
      this.pages.push(t);
    }
  }

  /** Frees the GL resources (the component is gone). */
  dispose(): void {
    const gl = this.gl;
    if (this.cache) { gl.deleteTexture(this.cache.tex); gl.deleteFramebuffer(this.cache.fb); this.cache = null; }
    if (this.refresh) clearTimeout(this.refresh);
    for (const t of this.pages) gl.deleteTexture(t);
    for (const b of [this.posBuf, this.colBuf, this.quadBuf]) gl.deleteBuffer(b);
    this.pages = []; this.pending = [];
    this.onNeedsFrame = null;
  }

  private cellX(x: number): number { const b = this.bounds; return Math.max(0, Math.min(G - 1, Math.floor(((x - b.x0) / (b.x1 - b.x0)) * G))); }
  private cellY(y: number): number { const b = this.bounds; return Math.max(0, Math.min(G - 1, Math.floor(((y - b.y0) / (b.y1 - b.y0)) * G))); }
  /** Calls f(item, x, y) for the items in the grid cells covering [x0, x1] x [y0, y1]; f returns false to stop. */
  private scan(x0: number, y0: number, x1: number, y1: number, f: (item: number, x: number, y: number) => boolean | void): void {
    const gx0 = this.cellX(x0), gx1 = this.cellX(x1), gy0 = this.cellY(y0), gy1 = this.cellY(y1);
    const st = this.start, sxy = this.sxy, order = this.order;
    for (let gy = gy0; gy <= gy1; gy++) {
      const a = st[gy * G + gx0], b = st[gy * G + gx1 + 1];
      for (let j = a; j < b; j++) if (f(order[j], sxy[2 * j], sxy[2 * j + 1]) === false) return;
    }
  }

  /** Positions (n x 2) and colours (n x 4 RGBA bytes). */
  setData(xy: Float32Array, rgba: Uint8Array): void {
    const gl = this.gl;
    this.n = xy.length / 2;
    this.xy = xy;
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    for (let i = 0; i < this.n; i++) {
      const x = xy[2 * i], y = xy[2 * i + 1];
      if (x < x0) x0 = x; if (x > x1) x1 = x; if (y < y0) y0 = y; if (y > y1) y1 = y;
    }
    if (!(x1 >= x0)) { x0 = 0; x1 = 1; y0 = 0; y1 = 1; }
    this.bounds = { x0, y0, x1: x1 > x0 ? x1 : x0 + 1, y1: y1 > y0 ? y1 : y0 + 1 };
    this.view = { cx: (x0 + x1) / 2, cy: (y0 + y1) / 2, zoom: 1 };
    // counting sort of the items by grid cell (row-major): contiguous ranges per cell, per row
    const cellOf = new Int32Array(this.n), st = new Int32Array(G * G + 1);
    for (let i = 0; i < this.n; i++) { const c = this.cellY(xy[2 * i + 1]) * G + this.cellX(xy[2 * i]); cellOf[i] = c; st[c + 1]++; }
    for (let c = 0; c < G * G; c++) st[c + 1] += st[c];
    const fill = st.slice(0, G * G), order = new Int32Array(this.n), sxy = new Float32Array(2 * this.n);
    for (let i = 0; i < this.n; i++) { const j = fill[cellOf[i]]++; order[j] = i; sxy[2 * j] = xy[2 * i]; sxy[2 * j + 1] = xy[2 * i + 1]; }
    this.order = order; this.start = st; this.sxy = sxy;
    gl.bindBuffer(gl.ARRAY_BUFFER, this.posBuf);
    gl.bufferData(gl.ARRAY_BUFFER, sxy, gl.STATIC_DRAW);
    this.setColours(rgba);
    this.cellOf.clear(); this.itemIn.fill(-1);
  }

  /** Colours (n x 4 RGBA bytes) in item order. */
  setColours(rgba: Uint8Array): void {
    this.rgba = rgba;
    this.revision++;
    const gl = this.gl, n = this.n, order = this.order;
    const src = new Uint32Array(rgba.buffer, rgba.byteOffset, n), out = new Uint32Array(n);
    for (let j = 0; j < n; j++) out[j] = src[order[j]];
    gl.bindBuffer(gl.ARRAY_BUFFER, this.colBuf);
    gl.bufferData(gl.ARRAY_BUFFER, new Uint8Array(out.buffer), gl.DYNAMIC_DRAW);
  }

  /** data units per pixel along x and y */
  private unitsPerPixel(): number {
    // the whole map (zoom 1) keeps half a thumbnail of margin on every side, so none at the edge is cut off
    const b = this.bounds, m = CELL + 8, w = Math.max(1, this.canvas.width - m), h = Math.max(1, this.canvas.height - m);
    return Math.max((b.x1 - b.x0) / w, (b.y1 - b.y0) / h) * 1.02 / this.view.zoom;
  }

  /** Screen pixel (CSS px of the canvas) to data coordinates. */
  toData(px: number, py: number): [number, number] {
    const u = this.unitsPerPixel();
    return [this.view.cx + (px - this.canvas.width / 2) * u, this.view.cy - (py - this.canvas.height / 2) * u];
  }

  /** Data coordinates to a screen pixel (CSS px of the canvas). */
  toScreen(x: number, y: number): [number, number] {
    const u = this.unitsPerPixel();
    return [(x - this.view.cx) / u + this.canvas.width / 2, -(y - this.view.cy) / u + this.canvas.height / 2];
  }

  /** Where item i is on screen, and the number of items. */
  screenOf(i: number): [number, number] { return this.toScreen(this.xy[2 * i], this.xy[2 * i + 1]); }
  get count(): number { return this.n; }

  /** Zoom by `f` around a screen point. */
  zoomAt(f: number, px: number, py: number): void {
    const [dx, dy] = this.toData(px, py);
    this.view.zoom = Math.max(0.5, Math.min(20000, this.view.zoom * f));
    const [ax, ay] = this.toData(px, py);
    this.view.cx += dx - ax; this.view.cy += dy - ay;
    // zoomed back out to the whole map: it is centred again (zooming out always returns to where it started)
    if (this.view.zoom <= 1) { const b = this.bounds; this.view.cx = (b.x0 + b.x1) / 2; this.view.cy = (b.y0 + b.y1) / 2; }
  }

  /** The whole map in view (zoom-to-fit / reset). */
  fit(): void {
    const b = this.bounds;
    this.view = { cx: (b.x0 + b.x1) / 2, cy: (b.y0 + b.y1) / 2, zoom: 1 };
  }

  panBy(dxPx: number, dyPx: number): void {
    const u = this.unitsPerPixel();
    this.view.cx -= dxPx * u; this.view.cy += dyPx * u;
  }

  /** The nearest item to a screen point within `radius` px, or -1. */
  pick(px: number, py: number, radius = 6): number {
    const [x, y] = this.toData(px, py);
    const r = radius * this.unitsPerPixel();
    let best = -1, bd = r * r;
    this.scan(x - r, y - r, x + r, y + r, (i, px2, py2) => {
      const d = (px2 - x) ** 2 + (py2 - y) ** 2;
      if (d < bd) { bd = d; best = i; }
    });
    return best;
  }

  /** The items inside a polygon in data coordinates (a lasso or a rectangle), ascending. */
  inside(poly: Array<[number, number]>): Int32Array {
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    for (const [x, y] of poly) { if (x < x0) x0 = x; if (x > x1) x1 = x; if (y < y0) y0 = y; if (y > y1) y1 = y; }
    const out: number[] = [];
    this.scan(x0, y0, x1, y1, (i, x, y) => {
      if (x < x0 || x > x1 || y < y0 || y > y1) return;
      let inPoly = false;
      for (let a = 0, b = poly.length - 1; a < poly.length; b = a++) {
        const [ax, ay] = poly[a], [bx, by] = poly[b];
        if ((ay > y) !== (by > y) && x < ((bx - ax) * (y - ay)) / (by - ay) + ax) inPoly = !inPoly;
      }
      if (inPoly) out.push(i);
    });
    return Int32Array.from(out).sort();
  }

  private loadCell(item: number): void {
    if (this.loading.has(item) || this.cellOf.has(item)) return;
    const url = this.opts.thumbUrl(item);
    if (!url) return;
    this.loading.add(item);
    // the least recently used cell
    let cell = 0;
    for (let c = 1; c < this.used.length; c++) if (this.used[c] < this.used[cell]) cell = c;
    this.used[cell] = this.frameTick + 1e-3; // reserved
    const img = new Image();
    img.crossOrigin = 'anonymous';
    // decoded images wait for the next frame, which uploads at most UPLOADS_PER_FRAME of them
    img.onload = () => { this.pending.push({ item, cell, img }); this.onNeedsFrame?.(); };
    img.onerror = () => { this.loading.delete(item); };
    img.src = url;
  }

  private upload(): void {
    if (!this.pending.length) return;
    const gl = this.gl;
    if (!this.scratch) { this.scratch = document.createElement('canvas'); this.scratch.width = CELL; this.scratch.height = CELL; }
    const g = this.scratch.getContext('2d')!;
    for (const { item, cell, img } of this.pending.splice(0, UPLOADS_PER_FRAME)) {
      this.loading.delete(item);
      const old = this.itemIn[cell];
      if (old >= 0) this.cellOf.delete(old);
      g.clearRect(0, 0, CELL, CELL);
      const s = Math.min(CELL / img.width, CELL / img.height);
      g.drawImage(img, (CELL - img.width * s) / 2, (CELL - img.height * s) / 2, img.width * s, img.height * s);
      gl.bindTexture(gl.TEXTURE_2D, this.pages[Math.floor(cell / PER_PAGE)]);
      const k = cell % PER_PAGE;
      gl.texSubImage2D(gl.TEXTURE_2D, 0, (k % PER_ROW) * CELL, Math.floor(k / PER_ROW) * CELL, gl.RGBA, gl.UNSIGNED_BYTE, this.scratch);
      this.itemIn[cell] = item;
      this.cellOf.set(item, cell);
    }
    if (this.pending.length) this.onNeedsFrame?.();
  }

  private pointPx(zoom: number): number { return Math.max(2, Math.min(8, 2 + Math.log2(zoom))) * (window.devicePixelRatio || 1); }

  /** All points in view into the bound framebuffer (culled to the grid rows and columns in [vx0, vx1] x [vy0, vy1]). */
  private drawPoints(u: number, scale: number[], offset: number[], vx0: number, vy0: number, vx1: number, vy1: number, zoom = this.view.zoom): void {
    const gl = this.gl;
    const px = this.pointPx(zoom);
    const pp = px <= 3 ? this.squares : this.pts;
    gl.useProgram(pp);
    gl.uniform2fv(gl.getUniformLocation(pp, 'scale'), scale);
    gl.uniform2fv(gl.getUniformLocation(pp, 'offset'), offset);
    gl.uniform1f(gl.getUniformLocation(pp, 'size'), px);
    gl.bindVertexArray(this.vaoPts);
    // culling: only the grid rows and columns on screen (consecutive full rows in one call)
    const gx0 = this.cellX(vx0), gx1 = this.cellX(vx1), gy0 = this.cellY(vy0), gy1 = this.cellY(vy1);
    if (gx0 === 0 && gx1 === G - 1) gl.drawArrays(gl.POINTS, this.start[gy0 * G], this.start[(gy1 + 1) * G] - this.start[gy0 * G]);
    else for (let gy = gy0; gy <= gy1; gy++) {
      const a = this.start[gy * G + gx0], b = this.start[gy * G + gx1 + 1];
      if (b > a) gl.drawArrays(gl.POINTS, a, b - a);
    }
  }

  /**
   * Far out (the whole map within 2x the viewport) the points layer is rendered once into a texture covering the whole
   * map and a frame draws that one textured quad: a pan costs one quad, a zoom within 1.5x of the cached zoom draws it
   * scaled, and a sharp re-render of every point follows REFRESH_MS after the last such frame. Returns false where the
   * cache does not apply (closer in: points are culled to the viewport instead).
   */
  private cache: { tex: WebGLTexture; fb: WebGLFramebuffer; w: number; h: number; sw: number; sh: number; zoom: number; rev: number; x0: number; y0: number; x1: number; y1: number } | null = null;
  private revision = 0;
  private refresh: ReturnType<typeof setTimeout> | null = null;
  /** frames drawn from the cached points layer (bench and tests read it) */
  cachedFrames = 0;
  private drawCached(u: number, w: number, h: number, scale: number[], offset: number[]): boolean {
    const gl = this.gl, b = this.bounds;
    const mx = (b.x1 - b.x0) * 0.03 + 8 * u, my = (b.y1 - b.y0) * 0.03 + 8 * u;
    const x0 = b.x0 - mx, x1 = b.x1 + mx, y0 = b.y0 - my, y1 = b.y1 + my;
    if ((x1 - x0) / u > 2 * w || (y1 - y0) / u > 2 * h || this.n < 20_000) return false;
    let c = this.cache;
    const fresh = c !== null && c.rev === this.revision && c.sw === w && c.sh === h && Math.abs(Math.log(this.view.zoom / c.zoom)) < Math.log(1.5);
    if (!fresh) {
      const cw = Math.ceil((x1 - x0) / u), ch = Math.ceil((y1 - y0) / u);
      if (!c || c.w !== cw || c.h !== ch) {
        if (c) { gl.deleteTexture(c.tex); gl.deleteFramebuffer(c.fb); }
        const tex = gl.createTexture()!;
        gl.bindTexture(gl.TEXTURE_2D, tex);
        gl.texStorage2D(gl.TEXTURE_2D, 1, gl.RGBA8, cw, ch);
        gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.LINEAR);
        gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.LINEAR);
        gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
        gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE);
        const fb = gl.createFramebuffer()!;
        gl.bindFramebuffer(gl.FRAMEBUFFER, fb);
        gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, tex, 0);
        c = { tex, fb, w: cw, h: ch, sw: w, sh: h, zoom: 0, rev: -1, x0, y0, x1, y1 };
      }
      gl.bindFramebuffer(gl.FRAMEBUFFER, c.fb);
      gl.viewport(0, 0, c.w, c.h);
      gl.clearColor(0.08, 0.09, 0.11, 1);
      gl.clear(gl.COLOR_BUFFER_BIT);
      // the cache's pixels are the screen's at this zoom: region [x0, x0 + cw u] x [y0, y0 + ch u]
      const rx1 = x0 + c.w * u, ry1 = y0 + c.h * u, csx = 2 / (rx1 - x0), csy = 2 / (ry1 - y0);
      this.drawPoints(u, [csx, csy], [-1 - x0 * csx, -1 - y0 * csy], x0, y0, rx1, ry1);
      gl.bindFramebuffer(gl.FRAMEBUFFER, null);
      gl.viewport(0, 0, w, h);
      Object.assign(c, { sw: w, sh: h, zoom: this.view.zoom, rev: this.revision, x0, y0, x1: rx1, y1: ry1 });
      this.cache = c;
    } else {
      this.cachedFrames++;
      if (this.view.zoom !== c!.zoom) {
        // scaled: a sharp frame once the zooming stops
        if (this.refresh) clearTimeout(this.refresh);
        this.refresh = setTimeout(() => { this.refresh = null; if (this.cache) this.cache.rev = -1; this.onNeedsFrame?.(); }, REFRESH_MS);
      }
    }
    c = this.cache!;
    gl.disable(gl.BLEND);
    gl.useProgram(this.quads);
    gl.uniform2fv(gl.getUniformLocation(this.quads, 'scale'), scale);
    gl.uniform2fv(gl.getUniformLocation(this.quads, 'offset'), offset);
    gl.bindVertexArray(this.vaoQuads);
    gl.bindTexture(gl.TEXTURE_2D, c.tex);
    gl.bindBuffer(gl.ARRAY_BUFFER, this.quadBuf);
    gl.bufferData(gl.ARRAY_BUFFER, new Float32Array([
      c.x0, c.y0, 0, 0, 1, 1, 1, 1, c.x1, c.y0, 1, 0, 1, 1, 1, 1, c.x0, c.y1, 0, 1, 1, 1, 1, 1,
      c.x1, c.y0, 1, 0, 1, 1, 1, 1, c.x1, c.y1, 1, 1, 1, 1, 1, 1, c.x0, c.y1, 0, 1, 1, 1, 1, 1]), gl.STREAM_DRAW);
    gl.drawArrays(gl.TRIANGLES, 0, 6);
    gl.enable(gl.BLEND);
    return true;
  }

  /** Draws one frame; returns the items drawn as thumbnails. */
  draw(): number {
    const gl = this.gl, w = this.canvas.width, h = this.canvas.height;
    this.frameTick++;
    gl.viewport(0, 0, w, h);
    gl.clearColor(0.08, 0.09, 0.11, 1);
    gl.clear(gl.COLOR_BUFFER_BIT);
    gl.enable(gl.BLEND);
    gl.blendFunc(gl.SRC_ALPHA, gl.ONE_MINUS_SRC_ALPHA);
    const u = this.unitsPerPixel();
    const sx = 2 / (w * u), sy = 2 / (h * u);
    const scale = [sx, sy], offset = [-this.view.cx * sx, -this.view.cy * sy];
    // level of detail: which items are on screen, and are they few enough to show as thumbnails
    const vx0 = this.view.cx - (w / 2) * u, vx1 = this.view.cx + (w / 2) * u, vy0 = this.view.cy - (h / 2) * u, vy1 = this.view.cy + (h / 2) * u;
    const lod = this.opts.lodItems ?? 1500;
    const visible: number[] = [];
    const xy = this.xy;
    this.scan(vx0, vy0, vx1, vy1, (i, x, y) => {
      if (x >= vx0 && x <= vx1 && y >= vy0 && y <= vy1) visible.push(i);
      return visible.length <= lod;
    });
    const thumbs = visible.length <= lod;
    if (thumbs && visible.length) { this.ensurePages(); this.upload(); }
    if (!this.drawCached(u, w, h, scale, offset)) this.drawPoints(u, scale, offset, vx0, vy0, vx1, vy1);
    let drawn = 0;
    if (thumbs && visible.length) {
      // thumbnail size: up to 64 px, never much larger than the spacing between items on screen
      const side = Math.max(12, Math.min(CELL, Math.sqrt((w * h) / visible.length) * 0.9)) * u;
      const perPage: number[][] = this.pages.map(() => []);
      const rgba = this.rgba, frame = 2 * u;
      let faint = false;
      for (const i of visible) {
        const al = rgba[4 * i + 3] / 255;
        if (al === 0) continue; // a hidden category: no thumbnail either
        const cell = this.cellOf.get(i);
        if (cell === undefined) { this.loadCell(i); continue; }
        this.used[cell] = this.frameTick;
        const k = cell % PER_PAGE;
        const u0 = ((k % PER_ROW) * CELL) / PAGE, v0 = (Math.floor(k / PER_ROW) * CELL) / PAGE, du = CELL / PAGE;
        const x = xy[2 * i], y = xy[2 * i + 1], hs = side / 2, fs = hs + frame;
        const r = rgba[4 * i] / 255, g = rgba[4 * i + 1] / 255, b = rgba[4 * i + 2] / 255;
        const fa = Math.max(al, 0.15), ta = al > 0.3 ? 1 : al; // noise thumbnails opaque, dimmed (not selected) ones faint
        if (ta < 1) faint = true;
        const out = perPage[Math.floor(cell / PER_PAGE)];
        // the frame as four strips around the thumbnail (little fill), then the thumbnail
        const strip = (ax: number, ay: number, bx: number, by: number, cu: number, cv: number, du2: number, dv: number, rr: number, gg: number, bb: number, aa: number) => out.push(
          ax, by, cu, cv, rr, gg, bb, aa, bx, by, cu + du2, cv, rr, gg, bb, aa, ax, ay, cu, cv + dv, rr, gg, bb, aa,
          bx, by, cu + du2, cv, rr, gg, bb, aa, bx, ay, cu + du2, cv + dv, rr, gg, bb, aa, ax, ay, cu, cv + dv, rr, gg, bb, aa);
        strip(x - fs, y + hs, x + fs, y + fs, -1, -1, 0, 0, r, g, b, fa);
        strip(x - fs, y - fs, x + fs, y - hs, -1, -1, 0, 0, r, g, b, fa);
        strip(x - fs, y - hs, x - hs, y + hs, -1, -1, 0, 0, r, g, b, fa);
        strip(x + hs, y - hs, x + fs, y + hs, -1, -1, 0, 0, r, g, b, fa);
        strip(x - hs, y - hs, x + hs, y + hs, u0, v0, du, du, 1, 1, 1, ta);
      }
      // thumbnails and frames all opaque (nothing dimmed): no blending, which software rasterizers pay for per pixel
      if (!faint) gl.disable(gl.BLEND);
      gl.useProgram(this.quads);
      gl.uniform2fv(gl.getUniformLocation(this.quads, 'scale'), scale);
      gl.uniform2fv(gl.getUniformLocation(this.quads, 'offset'), offset);
      gl.bindVertexArray(this.vaoQuads);
      perPage.forEach((verts, p) => {
        if (!verts.length) return;
        gl.bindTexture(gl.TEXTURE_2D, this.pages[p]);
        gl.bindBuffer(gl.ARRAY_BUFFER, this.quadBuf);
        gl.bufferData(gl.ARRAY_BUFFER, new Float32Array(verts), gl.STREAM_DRAW);
        gl.drawArrays(gl.TRIANGLES, 0, verts.length / 8);
        drawn += verts.length / 240;
      });
      gl.enable(gl.BLEND);
    }
    gl.bindVertexArray(null);
    this.drawLabels(u);
    this.lastThumbs = drawn;
    return drawn;
  }

  private drawLabels(u: number): void {
    const o = this.overlay;
    if (!o) return;
    const g = o.getContext('2d')!;
    g.clearRect(0, 0, o.width, o.height);
    g.font = '600 13px system-ui, sans-serif';
    g.textAlign = 'center';
    g.lineWidth = 3;
    g.strokeStyle = 'rgba(0,0,0,0.75)';
    g.fillStyle = '#fff';
    // decluttered: a label that would overlap one already drawn is left out (labels come largest group first)
    const placed: Array<[number, number, number, number]> = [];
    for (const l of this.labels) {
      const px = (l.x - this.view.cx) / u + o.width / 2, py = -(l.y - this.view.cy) / u + o.height / 2;
      if (px < -50 || px > o.width + 50 || py < -20 || py > o.height + 20) continue;
      let w = this.widths.get(l.text);
      if (w === undefined) { w = g.measureText(l.text).width + 6; if (this.widths.size > 20_000) this.widths.clear(); this.widths.set(l.text, w); }
      const box: [number, number, number, number] = [px - w / 2, py - 14, px + w / 2, py + 4];
      if (placed.some((b) => box[0] < b[2] && box[2] > b[0] && box[1] < b[3] && box[3] > b[1])) continue;
      placed.push(box);
      g.strokeText(l.text, px, py);
      g.fillText(l.text, px, py);
    }
  }
}

/** RGBA bytes per item from getMapField's codes and legend colours ('#rrggbb'); noise entries at lower alpha. */
export function coloursFromField(codes: Int32Array, legend: Array<{ code: number; colour: string; noise: boolean }>, hidden?: Set<number>): Uint8Array {
  const lut = new Uint8Array(4 * (Math.max(0, ...legend.map((l) => l.code)) + 1));
  for (const l of legend) {
    const v = parseInt(l.colour.slice(1), 16);
    lut.set([(v >> 16) & 255, (v >> 8) & 255, v & 255, hidden?.has(l.code) ? 0 : l.noise ? 110 : 230], 4 * l.code);
  }
  // one 32-bit word per item (no per-item subarray)
  const lut32 = new Uint32Array(lut.buffer), out32 = new Uint32Array(codes.length);
  for (let i = 0; i < codes.length; i++) out32[i] = lut32[codes[i]];
  return new Uint8Array(out32.buffer);
}
