/**
 * Writes a report as `JSON.stringify(value, null, 2)` would, byte for byte, without building the
 * whole string: the top two levels (the report object and its arrays) are written member by
 * member through a 1 MiB buffer, so a report with many thousands of rows never exists twice in
 * memory.
 */
import { closeSync, openSync, writeSync } from 'node:fs';

const FLUSH_AT = 1024 * 1024;
/** Levels written member by member; anything deeper is stringified whole (rows are small). */
const STREAM_DEPTH = 2;

export function writeJsonFile(path: string, value: unknown): void {
  const fd = openSync(path, 'w');
  try {
    let pending = '';
    const write = (s: string) => {
      pending += s;
      if (pending.length >= FLUSH_AT) {
        writeSync(fd, pending);
        pending = '';
      }
    };
    emit(value, '', 0, write);
    write('\n');
    writeSync(fd, pending);
  } finally {
    closeSync(fd);
  }
}

function emit(value: unknown, indent: string, depth: number, write: (s: string) => void): void {
  if (depth >= STREAM_DEPTH || value === null || typeof value !== 'object') {
    const text = JSON.stringify(value, null, 2) ?? 'null';
    write(indent === '' ? text : text.replace(/\n/g, `\n${indent}`));
    return;
  }
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) {
      write('[]');
      return;
    }
    write('[\n');
    value.forEach((v, i) => {
      write(inner);
      emit(v === undefined || typeof v === 'function' ? null : v, inner, depth + 1, write);
      write(i < value.length - 1 ? ',\n' : '\n');
    });
    write(`${indent}]`);
    return;
  }
  const entries = Object.entries(value).filter(([, v]) => v !== undefined && typeof v !== 'function');
  if (entries.length === 0) {
    write('{}');
    return;
  }
  write('{\n');
  entries.forEach(([k, v], i) => {
    write(`${inner}${JSON.stringify(k)}: `);
    emit(v, inner, depth + 1, write);
    write(i < entries.length - 1 ? ',\n' : '\n');
  });
  write(`${indent}}`);
}
