/**
 * Writes the JSON report without building it as one string: the top-level object is written
 * member by member through a 1 MiB buffer; small members are pretty-printed, and each element of
 * a top-level array (a row: a worker, a container, a day) goes on one line of its own, encoded
 * into a reused buffer in pieces of about 64 KiB. A report with tens of thousands of rows stays
 * readable and diffable, is about a third smaller than `JSON.stringify(report, null, 2)`, and
 * never exists twice in memory.
 */
import { closeSync, openSync, writeSync } from 'node:fs';

const BUFFER_BYTES = 1024 * 1024;
/** Characters of rows gathered before they are encoded into the buffer. */
const ROWS_PIECE_CHARS = 64 * 1024;

/**
 * Encodes strings straight into one reused buffer and writes it out when full: no string holds
 * more than a 64 KiB piece of rows, and nothing is encoded twice (a growing string flushed with
 * writeSync would be flattened, then copied into a temporary buffer).
 */
class BufferedFile {
  private readonly buf = Buffer.allocUnsafe(BUFFER_BYTES);
  private used = 0;

  constructor(private readonly fd: number) {}

  write(s: string): void {
    // UTF-8 needs at most 3 bytes per UTF-16 code unit.
    if (this.used + s.length * 3 > BUFFER_BYTES) {
      this.flush();
      if (s.length * 3 > BUFFER_BYTES) {
        writeSync(this.fd, s);
        return;
      }
    }
    this.used += this.buf.write(s, this.used);
  }

  flush(): void {
    let off = 0;
    while (off < this.used) off += writeSync(this.fd, this.buf, off, this.used - off);
    this.used = 0;
  }
}

export function writeJsonFile(path: string, value: unknown): void {
  const fd = openSync(path, 'w');
  try {
    const out = new BufferedFile(fd);
    const write = (s: string) => out.write(s);
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      write(JSON.stringify(value, null, 2) ?? 'null');
    } else {
      writeObject(value as Record<string, unknown>, write);
    }
    write('\n');
    out.flush();
  } finally {
    closeSync(fd);
  }
}

function writeObject(value: Record<string, unknown>, write: (s: string) => void): void {
  const entries = Object.entries(value).filter(([, v]) => v !== undefined && typeof v !== 'function');
  if (entries.length === 0) {
    write('{}');
    return;
  }
  write('{\n');
  entries.forEach(([key, v], i) => {
    write(`  ${JSON.stringify(key)}: `);
    if (Array.isArray(v) && v.length > 0) {
      write('[\n');
      // Rows are joined into pieces of about ROWS_PIECE_CHARS before each write: one call into
      // the encoder per piece instead of three per row.
      let piece = '';
      for (let j = 0; j < v.length; j++) {
        const row = v[j] === undefined || typeof v[j] === 'function' ? null : v[j];
        piece += `    ${JSON.stringify(row)}${j < v.length - 1 ? ',\n' : '\n'}`;
        if (piece.length >= ROWS_PIECE_CHARS) {
          write(piece);
          piece = '';
        }
      }
      write(`${piece}  ]`);
    } else {
      write(JSON.stringify(v, null, 2).replace(/\n/g, '\n  '));
    }
    write(i < entries.length - 1 ? ',\n' : '\n');
  });
  write('}');
}
