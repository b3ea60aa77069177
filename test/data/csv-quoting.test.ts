import { describe, expect, it } from 'vitest';
import { RegraftError } from '../../src/errors.js';
import { loadDataset } from '../../src/data/index.js';
import { DEFAULT_CSV_OPTIONS, parseCsv } from '../../src/data/csv.js';
import { tempDir, writeFile } from './files.js';

const dir = tempDir();

async function load(name: string, text: string, options = ''): Promise<{ features: number[]; labels: number[]; size: number }> {
  const path = writeFile(dir, name, text);
  const ds = await loadDataset(`csv:${path}${options}`);
  return { features: Array.from(ds.features), labels: Array.from(ds.labels), size: ds.size };
}

async function loadError(name: string, text: string, options = ''): Promise<Error> {
  const path = writeFile(dir, name, text);
  const err = await loadDataset(`csv:${path}${options}`).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(RegraftError);
  return err as Error;
}

describe('CSV quoted fields (RFC 4180)', () => {
  it('unquotes quoted numbers, labels and header names', async () => {
    const ds = await load('quoted.csv', '"x","y","label"\n"1.5","-2",0\n3,"4","1"\n');
    expect(ds.features).toEqual([1.5, -2, 3, 4]);
    expect(ds.labels).toEqual([0, 1]);
  });

  it('keeps a separator inside quotes as text, and reads a doubled quote as one quote', async () => {
    const text = '"width, cm","say ""hi""",label\n1,2,1\n';
    const err = await loadError('names.csv', text, '?label=target');
    expect(err.message).toMatch(/names\.csv has no column 'target'; its columns are width, cm, say "hi", label$/);
    const ds = await load('names2.csv', text, `?label=${encodeURIComponent('width, cm')}`);
    expect(ds.labels).toEqual([1]);
    expect(ds.features).toEqual([2, 1]);
  });

  it('allows blanks around a quoted field and keeps the separator check after the closing quote', async () => {
    const ds = await load('spaces.csv', ' "1" , "2" ,0\n');
    expect(ds.features).toEqual([1, 2]);
  });

  it('reads quotes with other separators, tab included', async () => {
    expect((await load('semi.csv', '"a;b";c;label\n"1";2;0\n', '?sep=;')).features).toEqual([1, 2]);
    expect((await load('tab.csv', '"a"\t"b"\tlabel\n"1"\t 2\t0\n', '?sep=tab')).features).toEqual([1, 2]);
  });

  it('lets a quoted field run over a line break and counts lines in the file, not records', async () => {
    const text = '"first\nfeature",b,label\n1,2,0\n3,x,1\n';
    const ds = await load('multiline-ok.csv', '"first\r\nfeature",b,label\r\n1,2,0\r\n');
    expect(ds.features).toEqual([1, 2]);
    const err = await loadError('multiline.csv', text);
    expect(err.message).toMatch(/multiline\.csv line 4 column 2 is not a number: 'x'/);
  });

  it('names the line where an unterminated quote opens', async () => {
    const err = await loadError('open.csv', 'a,b,label\n1,2,0\n4,"3,1\n5,6,0\n');
    expect(err.message).toBe(
      `CSV file ${dir}/open.csv line 3: the quote opening column 2 is never closed; end the field with '"' (a quote inside a quoted field is written twice: "")`,
    );
  });

  it('rejects text after a closing quote, naming line and column', async () => {
    const err = await loadError('after.csv', 'a,b,label\n"1"x,2,0\n');
    expect(err.message).toMatch(/after\.csv line 2: unexpected 'x' after the closing quote of column 1;/);
  });

  it('shows a doubled quote in a number field as one quote in the error', async () => {
    const err = await loadError('inner.csv', '1,2,0\n"1""5",2,0\n');
    expect(err.message).toMatch(/inner\.csv line 2 column 1 is not a number: '1"5'/);
  });

  it('rejects an empty or blank quoted field rather than reading it as 0', async () => {
    expect((await loadError('empty-q.csv', '1,2,0\n"",2,0\n')).message).toMatch(/empty-q\.csv line 2 column 1 is not a number/);
    expect((await loadError('blank-q.csv', '1,2,0\n"  ",2,0\n')).message).toMatch(/blank-q\.csv line 2 column 1 is not a number/);
  });

  it('refuses a separator that contains a quote', () => {
    expect(() => parseCsv('1"2"0\n', 'q.csv', { ...DEFAULT_CSV_OPTIONS, separator: '"' })).toThrow(
      /CSV file q\.csv: the separator '"' contains '"', which CSV keeps for quoting; choose another separator/,
    );
  });
});

describe('CSV line endings and byte order mark', () => {
  it('reads CRLF line endings in plain and quoted lines', async () => {
    const ds = await load('crlf.csv', '"a","b",label\r\n1,2,0\r\n"3",4,1\r\n');
    expect(ds.features).toEqual([1, 2, 3, 4]);
    expect(ds.labels).toEqual([0, 1]);
  });

  it('gives the same samples with or without a trailing newline', async () => {
    for (const [name, text] of [['nl0.csv', 'a,b,l\n1,2,0'], ['nl1.csv', 'a,b,l\n1,2,0\n'], ['nl2.csv', 'a,b,l\r\n1,2,0\r\n\r\n']]) {
      const ds = await load(name, text);
      expect(ds.size, name).toBe(1);
      expect(ds.features, name).toEqual([1, 2]);
    }
  });

  it('ignores a UTF-8 byte order mark before the header, quoted or not', async () => {
    const bom = '\uFEFF';
    expect((await load('bom.csv', `${bom}a,b,label\n1,2,0\n`, '?label=a')).labels).toEqual([1]);
    expect((await load('bom-q.csv', `${bom}"a",b,label\n1,2,0\n`, '?label=a')).labels).toEqual([1]);
    // Written as bytes, as a spreadsheet saves it: EF BB BF then the text.
    const path = writeFile(dir, 'bom-bytes.csv', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('"a",b,label\n1,2,0\n')]));
    const ds = await loadDataset(`csv:${path}?label=a`);
    expect(Array.from(ds.labels)).toEqual([1]);
  });
});
