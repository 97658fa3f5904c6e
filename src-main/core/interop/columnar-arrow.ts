/**
 * Arrow IPC files read one record batch at a time: the file's layout (schema, and where each record batch lies and
 * how many rows it holds) comes from its footer (the file format) or from walking the message headers (the stream
 * format), reading only metadata; a batch is read when it is asked for, its bytes alone. A 1.5 GB file is never in
 * memory whole; a single record batch above ARROW_BATCH_LIMIT is refused by name (write smaller batches).
 *
 * Every read goes through the one reader's checked descriptor (a FIFO or a device named .arrow is refused before any
 * byte is read) and never past the size fstat gave; a header, footer or block that points outside the file is a
 * BAD_FILE naming the file (truncated or not Arrow), never a RangeError.
 */
import { closeSync } from 'node:fs';
import * as arrow from 'apache-arrow';
import { Footer } from 'apache-arrow/ipc/metadata/file';
import { Message } from 'apache-arrow/ipc/metadata/message';
import { AppError } from '../../common/errors.ts';
import { openRegularSync, readRangeSync, type CheckedFile } from '../safe-read.ts';

const MiB = 1 << 20;
/**
 * The largest record batch read: its bytes and the vectors copied out of them are in memory together (about twice
 * this at the peak), so an import stays well under 1 GB whatever the file's size.
 */
export const ARROW_BATCH_LIMIT = 256 * MiB;
/** The largest message header or footer (flatbuffers of a schema and block list; real ones are kilobytes). */
const META_LIMIT = 64 * MiB;
/** Dictionaries are prepended to every batch read; together they are bounded. */
const DICT_LIMIT = 256 * MiB;
const MAGIC = 'ARROW1';
/** End-of-stream: continuation marker and a metadata length of 0. */
const EOS = Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);

export interface ArrowBlock { offset: number; length: number; rows: number }

export interface ArrowLayout {
  schema: arrow.Schema;
  /** the schema message and every dictionary batch, as stream bytes: what each batch is read after */
  head: Buffer;
  batches: ArrowBlock[];
}

function bad(file: string, why: string): AppError {
  return new AppError('BAD_FILE', `${file}: ${why}`);
}

function readExact(f: CheckedFile, position: number, length: number, what: string): Buffer {
  if (position < 0 || length < 0 || position + length > f.size) throw bad(f.path, `truncated or not an Arrow IPC file (${what} at byte ${position}, ${length} bytes, past the end of the ${f.size}-byte file)`);
  const buf = Buffer.allocUnsafe(length);
  if (readRangeSync(f, buf, position, length) !== length) throw bad(f.path, `truncated while it was read (${what})`);
  return buf;
}

/** The encapsulated message at `offset`: its prefix + metadata length, the decoded header and its body length. */
function messageAt(f: CheckedFile, offset: number): { metaLength: number; message: Message; bodyLength: number } | null {
  if (offset + 4 > f.size) return null; // a stream that ends without its end-of-stream marker
  const p = readExact(f, offset, Math.min(8, f.size - offset), 'a message header');
  let prefix = 4, len = p.readInt32LE(0);
  if (p.readUInt32LE(0) === 0xffffffff) {
    if (p.length < 8) throw bad(f.path, `truncated Arrow stream (a message header at byte ${offset})`);
    prefix = 8; len = p.readInt32LE(4);
  }
  if (len === 0) return null; // end of stream
  if (len < 0 || len > META_LIMIT) throw bad(f.path, `not a readable Arrow IPC file (a message header of ${len} bytes at byte ${offset})`);
  const fb = readExact(f, offset + prefix, len, 'a message header');
  let message: Message;
  try { message = Message.decode(fb); } catch (e) {
    throw bad(f.path, `not a readable Arrow IPC file (a message at byte ${offset}: ${(e as Error).message.split('\n')[0]})`);
  }
  const bodyLength = Number(message.bodyLength);
  if (!Number.isFinite(bodyLength) || bodyLength < 0) throw bad(f.path, `not a readable Arrow IPC file (a message body of ${message.bodyLength} bytes)`);
  return { metaLength: prefix + len, message, bodyLength };
}

function rowsOf(f: CheckedFile, m: Message, offset: number): number {
  if (!m.isRecordBatch()) throw bad(f.path, `not a readable Arrow IPC file (the block at byte ${offset} is not a record batch)`);
  const n = Number(m.header().length);
  if (!Number.isSafeInteger(n) || n < 0) throw bad(f.path, `not a readable Arrow IPC file (a record batch of ${n} rows at byte ${offset})`);
  return n;
}

function checkBlock(file: string, b: ArrowBlock, i: number): void {
  if (b.length > ARROW_BATCH_LIMIT) {
    throw bad(file, `record batch ${i + 1} is ${Math.round(b.length / MiB)} MiB, above the ${ARROW_BATCH_LIMIT / MiB} MiB read at once; write the file in smaller record batches (e.g. pyarrow's max_chunksize)`);
  }
}

/** An encapsulated schema message: continuation marker, padded length, the flatbuffer, padding to 8 bytes. */
function schemaMessage(schema: arrow.Schema): Buffer {
  const fb = Message.encode(Message.from(schema));
  const padded = Math.ceil((fb.byteLength + 8) / 8) * 8 - 8;
  const out = Buffer.alloc(8 + padded);
  out.writeUInt32LE(0xffffffff, 0);
  out.writeInt32LE(padded, 4);
  out.set(fb, 8);
  return out;
}

function fileLayout(f: CheckedFile): ArrowLayout {
  if (f.size < 8 + 10) throw bad(f.path, `truncated Arrow IPC file (${f.size} bytes)`);
  const tail = readExact(f, f.size - 10, 10, 'the footer length');
  if (tail.toString('latin1', 4) !== MAGIC) throw bad(f.path, 'truncated or not an Arrow IPC file (no ARROW1 magic at its end)');
  const footerLen = tail.readInt32LE(0);
  if (footerLen <= 0 || footerLen > META_LIMIT || footerLen > f.size - 18) throw bad(f.path, `truncated or not an Arrow IPC file (a footer of ${footerLen} bytes in a ${f.size}-byte file)`);
  let footer: Footer;
  try { footer = Footer.decode(readExact(f, f.size - 10 - footerLen, footerLen, 'the footer')); } catch (e) {
    if (e instanceof AppError) throw e;
    throw bad(f.path, `not a readable Arrow IPC file (its footer: ${(e as Error).message.split('\n')[0]})`);
  }
  if (!footer.schema || footer.schema.fields.length === 0) throw bad(f.path, 'not a readable Arrow IPC file (no columns)');
  // the footer's schema as a stream's first message (apache-arrow's own writer puts none after the magic)
  const parts: Buffer[] = [schemaMessage(footer.schema)];
  let dictBytes = 0;
  for (const d of footer.dictionaryBatches()) {
    const len = d.metaDataLength + Number(d.bodyLength);
    dictBytes += len;
    if (dictBytes > DICT_LIMIT) throw bad(f.path, `dictionaries above ${DICT_LIMIT / MiB} MiB`);
    parts.push(readExact(f, Number(d.offset), len, 'a dictionary batch'));
  }
  const batches: ArrowBlock[] = [];
  for (const b of footer.recordBatches()) {
    const offset = Number(b.offset), length = b.metaDataLength + Number(b.bodyLength);
    if (offset + length > f.size - 10 - footerLen) throw bad(f.path, `truncated Arrow IPC file (record batch ${batches.length + 1} at byte ${offset}, ${length} bytes, runs past its data)`);
    const m = messageAt(f, offset);
    if (!m) throw bad(f.path, `not a readable Arrow IPC file (no record batch at byte ${offset})`);
    const block = { offset, length, rows: rowsOf(f, m.message, offset) };
    checkBlock(f.path, block, batches.length);
    batches.push(block);
  }
  return { schema: footer.schema, head: Buffer.concat(parts), batches };
}

function streamLayout(f: CheckedFile): ArrowLayout {
  const first = messageAt(f, 0);
  if (!first || !first.message.isSchema()) throw bad(f.path, 'not a readable Arrow IPC file (no ARROW1 magic and no schema message at its start)');
  const schema = first.message.header();
  if (schema.fields.length === 0) throw bad(f.path, 'not a readable Arrow IPC file (no columns)');
  const parts: Buffer[] = [readExact(f, 0, first.metaLength, 'the schema')];
  const batches: ArrowBlock[] = [];
  let dictBytes = 0;
  for (let off = first.metaLength + first.bodyLength; ;) {
    const m = messageAt(f, off);
    if (!m) break;
    const length = m.metaLength + m.bodyLength;
    if (off + length > f.size) throw bad(f.path, `truncated Arrow stream (a message at byte ${off}, ${length} bytes, in a ${f.size}-byte file)`);
    if (m.message.isDictionaryBatch()) {
      dictBytes += length;
      if (dictBytes > DICT_LIMIT) throw bad(f.path, `dictionaries above ${DICT_LIMIT / MiB} MiB`);
      parts.push(readExact(f, off, length, 'a dictionary batch'));
    } else if (m.message.isRecordBatch()) {
      const block = { offset: off, length, rows: rowsOf(f, m.message, off) };
      checkBlock(f.path, block, batches.length);
      batches.push(block);
    }
    off += length;
  }
  return { schema, head: Buffer.concat(parts), batches };
}

/** The layout of an Arrow IPC file (file or stream format), reading headers only. */
export function arrowLayout(file: string): ArrowLayout {
  const f = openRegularSync(file, 'columnar');
  try {
    const magic = f.size >= 6 ? readExact(f, 0, 6, 'the magic').toString('latin1') : '';
    return magic === MAGIC ? fileLayout(f) : streamLayout(f);
  } finally {
    try { closeSync(f.fd); } catch { /* ignore */ }
  }
}

/** Reads record batches of a file by index, through one checked descriptor; close() when done. */
export class ArrowBatchReader {
  private readonly f: CheckedFile;
  /** one buffer for every batch read (head, batch, end of stream): the batch's vectors are copied out before the next */
  private buf: Buffer | null = null;
  constructor(private readonly file: string, private readonly layout: ArrowLayout) {
    this.f = openRegularSync(file, 'columnar');
  }

  /**
   * Record batch `i` alone (its bytes read, nothing else of the file). Its vectors are views of a buffer the next
   * call reuses: copy out what is kept.
   */
  batch(i: number): arrow.RecordBatch {
    const b = this.layout.batches[i];
    if (!b) throw bad(this.file, `no record batch ${i + 1}`);
    const head = this.layout.head, need = head.length + b.length + EOS.length;
    if (!this.buf || this.buf.length < need) {
      let most = 0;
      for (const x of this.layout.batches) most = Math.max(most, x.length);
      this.buf = Buffer.alloc(head.length + most + EOS.length);
      head.copy(this.buf, 0);
    }
    if (b.offset + b.length > this.f.size) throw bad(this.file, `truncated Arrow IPC file (record batch ${i + 1} runs past its end)`);
    if (readRangeSync(this.f, this.buf, b.offset, b.length, head.length) !== b.length) throw bad(this.file, `truncated while it was read (record batch ${i + 1})`);
    EOS.copy(this.buf, head.length + b.length);
    const bytes = this.buf.subarray(0, need);
    let t: arrow.Table;
    try { t = arrow.tableFromIPC(bytes); } catch (e) {
      throw bad(this.file, `record batch ${i + 1} is not readable (${(e as Error).message.split('\n')[0]})`);
    }
    if (t.batches.length !== 1 || t.batches[0].numRows !== b.rows) throw bad(this.file, `record batch ${i + 1} is not readable (${t.numRows} rows read, ${b.rows} in its header)`);
    return t.batches[0];
  }

  close(): void {
    try { closeSync(this.f.fd); } catch { /* ignore */ }
  }
}
