/**
 * Numeric CSV: one sample per line, every column a number; one column holds the integer class label and the
 * others are the features (sample shape [columns - 1]). Fields may be quoted as RFC 4180 says ("1.5", a doubled
 * "" for a quote inside, separators and line breaks inside quotes); lines end in LF or CRLF; a UTF-8 byte order
 * mark before the header is ignored. Blank lines are skipped, so a trailing newline is fine.
 */
import { RegraftError } from '../errors.js';
import { outsideClasses } from './validate.js';

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
  /** Class indices; empty when the label column was read as float targets. */
  labels: Int32Array;
  /** The label column as float targets (parseCsv with labelKind 'values'). */
  targets?: Float32Array;
}

/** One record (usually one line) split into fields, and the index of the line after it. */
interface CsvRecord {
  fields: string[];
  next: number;
}

/**
 * Reads the record that starts at lines[row]. Datasets run to 10^5+ numeric lines without a single quote, so those
 * take a plain split; only a line with a quote goes through the character-level reader.
 */
function readRecord(lines: readonly string[], row: number, separator: string, path: string): CsvRecord {
  const line = lines[row];
  if (!line.includes('"')) return { fields: line.split(separator).map((f) => f.trim()), next: row + 1 };
  return readQuotedRecord(lines, row, separator, path);
}

/**
 * RFC 4180 fields: a field that starts with '"' (after optional blanks) runs to the next '"' that is not doubled,
 * across line breaks if need be; between the closing quote and the separator only blanks may stand. A quote inside
 * an unquoted field is kept as it is, as most readers do. Unquoted fields are trimmed, quoted ones are kept whole.
 */
function readQuotedRecord(lines: readonly string[], startRow: number, separator: string, path: string): CsvRecord {
  const fields: string[] = [];
  let row = startRow;
  let line = lines[row];
  let at = 0;
  for (;;) {
    const start = skipBlanks(line, at, separator);
    if (line[start] !== '"') {
      const end = line.indexOf(separator, start);
      fields.push(line.slice(start, end < 0 ? line.length : end).trim());
      if (end < 0) return { fields, next: row + 1 };
      at = end + separator.length;
      continue;
    }
    const openRow = row;
    let value = '';
    let from = start + 1;
    for (;;) {
      const quote = line.indexOf('"', from);
      if (quote < 0) {
        // The line break belongs to the field; the split removed it (and any CR before it), so put back one LF.
        value += line.slice(from) + '\n';
        row++;
        if (row === lines.length) {
          throw new RegraftError(
            `CSV file ${path} line ${openRow + 1}: the quote opening column ${fields.length + 1} is never closed; ` +
              `end the field with '"' (a quote inside a quoted field is written twice: "")`,
          );
        }
        line = lines[row];
        from = 0;
      } else if (line[quote + 1] === '"') {
        value += line.slice(from, quote) + '"';
        from = quote + 2;
      } else {
        value += line.slice(from, quote);
        from = quote + 1;
        break;
      }
    }
    fields.push(value);
    const after = skipBlanks(line, from, separator);
    if (after === line.length) return { fields, next: row + 1 };
    if (!line.startsWith(separator, after)) {
      throw new RegraftError(
        `CSV file ${path} line ${row + 1}: unexpected '${line[after]}' after the closing quote of column ${fields.length}; ` +
          `a quoted field must end right before the separator (write a quote inside it twice: "")`,
      );
    }
    at = after + separator.length;
  }
}

/** The index of the first character from `at` that is neither a space nor a tab, unless it starts the separator (sep=tab). */
function skipBlanks(line: string, at: number, separator: string): number {
  let i = at;
  while (i < line.length && (line[i] === ' ' || line[i] === '\t') && !line.startsWith(separator, i)) i++;
  return i;
}

/** Number('') and Number(' ') are 0, so blanks (a quoted "  " keeps its spaces) must be rejected, not read as 0. */
function toNumber(field: string): number {
  if (field === '') return NaN;
  const value = Number(field);
  return value === 0 && field.trim() === '' ? NaN : value;
}

/**
 * `labelKind` 'values' reads the label column as float targets (regression) instead of class indices; `classes`
 * (the model's class count, when known) makes a label outside [0, classes) an error naming its line.
 */
export function parseCsv(text: string, path: string, options: CsvOptions, labelKind: 'classes' | 'values' = 'classes', classes?: number): CsvTable {
  if (options.separator.includes('"')) {
    throw new RegraftError(`CSV file ${path}: the separator '${options.separator}' contains '"', which CSV keeps for quoting; choose another separator`);
  }
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  let row = 0;
  while (row < lines.length && lines[row].trim() === '') row++;
  if (row === lines.length) throw new RegraftError(`CSV file ${path} is empty; it needs one sample per line`);

  const firstRecord = readRecord(lines, row, options.separator, path);
  const first = firstRecord.fields;
  const hasHeader = options.header === 'auto' ? first.some((f) => Number.isNaN(toNumber(f))) : options.header;
  const columns = first.length;
  if (columns < 2) {
    throw new RegraftError(`CSV file ${path} line ${row + 1} has ${columns} column; it needs features and a label (is the separator '${options.separator}'?)`);
  }
  const labelColumn = resolveLabelColumn(options.label, hasHeader ? first : null, columns, path);
  if (hasHeader) row = firstRecord.next;

  const featureCount = columns - 1;
  const capacity = lines.length - row;
  const features = new Float32Array(capacity * featureCount);
  const targets = labelKind === 'values' ? new Float32Array(capacity) : undefined;
  const labels = new Int32Array(targets ? 0 : capacity);
  let count = 0;
  while (row < lines.length) {
    if (lines[row].trim() === '') {
      row++;
      continue;
    }
    const { fields, next } = readRecord(lines, row, options.separator, path);
    if (fields.length !== columns) {
      throw new RegraftError(`CSV file ${path} line ${row + 1} has ${fields.length} fields, expected ${columns} like the first line`);
    }
    let f = count * featureCount;
    for (let c = 0; c < columns; c++) {
      const value = toNumber(fields[c]);
      if (Number.isNaN(value)) {
        throw new RegraftError(`CSV file ${path} line ${row + 1} column ${c + 1} is not a number: '${fields[c].slice(0, 40)}'`);
      }
      if (!Number.isFinite(value)) {
        // Number('Infinity') is Infinity: a value no loss or gradient survives, so it is refused here, not as a NaN loss later.
        throw new RegraftError(`CSV file ${path} line ${row + 1} column ${c + 1} is ${value}; ${c === labelColumn ? 'targets' : 'features'} must be finite numbers (fix or drop that row)`);
      }
      if (c === labelColumn && targets) {
        targets[count] = value;
      } else if (c === labelColumn) {
        if (!Number.isInteger(value) || value < 0) {
          throw new RegraftError(`CSV file ${path} line ${row + 1}: label '${fields[c]}' is not a class index (0, 1, 2, ...)`);
        }
        if (classes !== undefined && value >= classes) {
          throw new RegraftError(`CSV file ${path} line ${row + 1} column ${c + 1}: ${outsideClasses(value, classes)}`);
        }
        labels[count] = value;
      } else {
        features[f++] = value / options.scale;
      }
    }
    count++;
    row = next;
  }
  if (count === 0) throw new RegraftError(`CSV file ${path} has a header but no samples`);
  const table = { count, featureCount, features: features.subarray(0, count * featureCount), labels: labels.subarray(0, targets ? 0 : count) };
  return targets ? { ...table, targets: targets.subarray(0, count) } : table;
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
