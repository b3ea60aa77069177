/**
 * Numeric CSV: one sample per line, every column a number; one column holds the integer class label and the
 * others are the features (sample shape [columns - 1]). Quoted fields are unquoted but may not contain the separator.
 */
import { RegraftError } from '../errors.js';

export interface CsvOptions {
  /** Label column: an index (0-based, negative counts from the end) or a header name. Default -1, the last column. */
  label: number | string;
  /** Whether the first line names the columns; 'auto' treats it as a header when any field in it is not a number. */
  header: boolean | 'auto';
  /** Field separator. */
  separator: string;
  /** Every feature is divided by this (e.g. 255 for pixel columns), so inputs land in [0, 1]. */
  scale: number;
}

export const DEFAULT_CSV_OPTIONS: CsvOptions = { label: -1, header: 'auto', separator: ',', scale: 1 };

export interface CsvTable {
  count: number;
  featureCount: number;
  features: Float32Array;
  labels: Int32Array;
}

function splitFields(line: string, separator: string): string[] {
  return line.split(separator).map((f) => f.trim().replace(/^"(.*)"$/, '$1'));
}

/** Number('') and Number(' ') are 0, so blanks must be rejected before converting. */
function toNumber(field: string): number {
  return field === '' ? NaN : Number(field);
}

export function parseCsv(text: string, path: string, options: CsvOptions): CsvTable {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  let row = 0;
  while (row < lines.length && lines[row].trim() === '') row++;
  if (row === lines.length) throw new RegraftError(`CSV file ${path} is empty; it needs one sample per line`);

  const first = splitFields(lines[row], options.separator);
  const hasHeader = options.header === 'auto' ? first.some((f) => Number.isNaN(toNumber(f))) : options.header;
  const columns = first.length;
  if (columns < 2) {
    throw new RegraftError(`CSV file ${path} line ${row + 1} has ${columns} column; it needs features and a label (is the separator '${options.separator}'?)`);
  }
  const labelColumn = resolveLabelColumn(options.label, hasHeader ? first : null, columns, path);
  if (hasHeader) row++;

  const featureCount = columns - 1;
  const capacity = lines.length - row;
  const features = new Float32Array(capacity * featureCount);
  const labels = new Int32Array(capacity);
  let count = 0;
  for (; row < lines.length; row++) {
    if (lines[row].trim() === '') continue;
    const fields = splitFields(lines[row], options.separator);
    if (fields.length !== columns) {
      throw new RegraftError(`CSV file ${path} line ${row + 1} has ${fields.length} fields, expected ${columns} like the first line`);
    }
    let f = count * featureCount;
    for (let c = 0; c < columns; c++) {
      const value = toNumber(fields[c]);
      if (Number.isNaN(value)) {
        throw new RegraftError(`CSV file ${path} line ${row + 1} column ${c + 1} is not a number: '${fields[c].slice(0, 40)}'`);
      }
      if (c === labelColumn) {
        if (!Number.isInteger(value) || value < 0) {
          throw new RegraftError(`CSV file ${path} line ${row + 1}: label '${fields[c]}' is not a class index (0, 1, 2, ...)`);
        }
        labels[count] = value;
      } else {
        features[f++] = value / options.scale;
      }
    }
    count++;
  }
  if (count === 0) throw new RegraftError(`CSV file ${path} has a header but no samples`);
  return { count, featureCount, features: features.subarray(0, count * featureCount), labels: labels.subarray(0, count) };
}

function resolveLabelColumn(label: number | string, header: string[] | null, columns: number, path: string): number {
  if (typeof label === 'string') {
    if (header === null) {
      throw new RegraftError(`CSV file ${path} has no header line, so label column '${label}' cannot be found; give a column index`);
    }
    const index = header.indexOf(label);
    if (index < 0) throw new RegraftError(`CSV file ${path} has no column '${label}'; its columns are ${header.join(', ')}`);
    return index;
  }
  const index = label < 0 ? columns + label : label;
  if (!Number.isInteger(index) || index < 0 || index >= columns) {
    throw new RegraftError(`CSV file ${path} has ${columns} columns; label column ${label} is outside it`);
  }
  return index;
}
