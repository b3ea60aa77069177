/**
 * Optuna's relational storage schema (optuna/storages/_rdb/models.py, alembic revision v3.2.0.a, the revision
 * Optuna 3.2 to 5 use), written once for both dialects. Table and column names, types, unique constraints and, on
 * PostgreSQL, the native enum types are what SQLAlchemy creates for Optuna, so a study regraft creates is one that
 * `optuna.load_study` opens, and a study Optuna creates is one regraft joins.
 *
 * A store at another revision is refused rather than migrated: Optuna's own `optuna storage upgrade` owns that.
 */
export type Dialect = 'sqlite' | 'postgres';

export const OPTUNA_SCHEMA_REVISION = 'v3.2.0.a';
/** version_info.schema_version as Optuna 5 writes it. */
export const OPTUNA_SCHEMA_VERSION = 12;
/** version_info.library_version: the Optuna release whose schema this is (Optuna only prints it in messages). */
export const OPTUNA_LIBRARY_VERSION = '5.0.0';

/** Enum types: native enums on PostgreSQL (named as SQLAlchemy names them), VARCHAR of the longest label on SQLite. */
const ENUMS = {
  studydirection: ['NOT_SET', 'MINIMIZE', 'MAXIMIZE'],
  trialstate: ['RUNNING', 'COMPLETE', 'PRUNED', 'FAIL', 'WAITING'],
  trialvaluetype: ['FINITE', 'INF_POS', 'INF_NEG'],
  trialintermediatevaluetype: ['FINITE', 'INF_POS', 'INF_NEG', 'NAN'],
} as const;

type ColumnType = 'id' | 'int' | 'float' | 'text' | 'datetime' | { varchar: number } | { enum: keyof typeof ENUMS };

interface Table {
  name: string;
  columns: [name: string, type: ColumnType, constraint?: 'NOT NULL'][];
  unique?: string[];
  references?: [column: string, target: string][];
  check?: string;
  /** The primary key is a plain integer the caller sets (version_info), not a sequence. */
  manualKey?: boolean;
}

const KEY = { varchar: 512 } as const;

const TABLES: Table[] = [
  { name: 'studies', columns: [['study_id', 'id'], ['study_name', KEY, 'NOT NULL']] },
  {
    name: 'version_info',
    columns: [['version_info_id', 'id'], ['schema_version', 'int'], ['library_version', { varchar: 256 }]],
    check: 'version_info_id = 1',
    manualKey: true,
  },
  {
    name: 'study_directions',
    columns: [['study_direction_id', 'id'], ['direction', { enum: 'studydirection' }, 'NOT NULL'], ['study_id', 'int', 'NOT NULL'], ['objective', 'int', 'NOT NULL']],
    unique: ['study_id', 'objective'],
    references: [['study_id', 'studies']],
  },
  ...(['study_user_attributes', 'study_system_attributes'] as const).map((name): Table => ({
    name,
    columns: [[`${name.slice(0, -1)}_id`, 'id'], ['study_id', 'int'], ['key', KEY], ['value_json', 'text']],
    unique: ['study_id', 'key'],
    references: [['study_id', 'studies']],
  })),
  {
    name: 'trials',
    columns: [
      ['trial_id', 'id'], ['number', 'int'], ['study_id', 'int'], ['state', { enum: 'trialstate' }, 'NOT NULL'],
      ['datetime_start', 'datetime'], ['datetime_complete', 'datetime'],
    ],
    references: [['study_id', 'studies']],
  },
  ...(['trial_user_attributes', 'trial_system_attributes'] as const).map((name): Table => ({
    name,
    columns: [[`${name.slice(0, -1)}_id`, 'id'], ['trial_id', 'int'], ['key', KEY], ['value_json', 'text']],
    unique: ['trial_id', 'key'],
    references: [['trial_id', 'trials']],
  })),
  {
    name: 'trial_params',
    columns: [['param_id', 'id'], ['trial_id', 'int'], ['param_name', KEY], ['param_value', 'float'], ['distribution_json', 'text']],
    unique: ['trial_id', 'param_name'],
    references: [['trial_id', 'trials']],
  },
  {
    name: 'trial_values',
    columns: [
      ['trial_value_id', 'id'], ['trial_id', 'int', 'NOT NULL'], ['objective', 'int', 'NOT NULL'], ['value', 'float'],
      ['value_type', { enum: 'trialvaluetype' }, 'NOT NULL'],
    ],
    unique: ['trial_id', 'objective'],
    references: [['trial_id', 'trials']],
  },
  {
    name: 'trial_intermediate_values',
    columns: [
      ['trial_intermediate_value_id', 'id'], ['trial_id', 'int', 'NOT NULL'], ['step', 'int', 'NOT NULL'],
      ['intermediate_value', 'float'], ['intermediate_value_type', { enum: 'trialintermediatevaluetype' }, 'NOT NULL'],
    ],
    unique: ['trial_id', 'step'],
    references: [['trial_id', 'trials']],
  },
  {
    name: 'trial_heartbeats',
    columns: [['trial_heartbeat_id', 'id'], ['trial_id', 'int', 'NOT NULL'], ['heartbeat', 'datetime', 'NOT NULL']],
    unique: ['trial_id'],
    references: [['trial_id', 'trials']],
  },
];

function columnSql(dialect: Dialect, table: Table, [name, type, constraint]: Table['columns'][number]): string {
  const quoted = name === 'key' ? '"key"' : name;
  let sqlType: string;
  if (type === 'id') {
    sqlType = dialect === 'postgres' && !table.manualKey ? 'SERIAL NOT NULL' : 'INTEGER NOT NULL';
  } else if (type === 'int') sqlType = 'INTEGER';
  else if (type === 'float') sqlType = dialect === 'postgres' ? 'DOUBLE PRECISION' : 'FLOAT';
  else if (type === 'text') sqlType = 'TEXT';
  else if (type === 'datetime') sqlType = dialect === 'postgres' ? 'TIMESTAMP WITHOUT TIME ZONE' : 'DATETIME';
  else if ('varchar' in type) sqlType = `VARCHAR(${type.varchar})`;
  else sqlType = dialect === 'postgres' ? type.enum : `VARCHAR(${Math.max(...ENUMS[type.enum].map((l) => l.length))})`;
  return `${quoted} ${sqlType}${constraint ? ` ${constraint}` : ''}`;
}

/** Every statement that creates an empty store at OPTUNA_SCHEMA_REVISION, in order. */
export function schemaStatements(dialect: Dialect): string[] {
  const statements: string[] = [];
  if (dialect === 'postgres') {
    for (const [name, labels] of Object.entries(ENUMS)) {
      statements.push(`CREATE TYPE ${name} AS ENUM (${labels.map((l) => `'${l}'`).join(', ')})`);
    }
  }
  for (const table of TABLES) {
    const parts = table.columns.map((c) => columnSql(dialect, table, c));
    parts.push(`PRIMARY KEY (${table.columns[0][0]})`);
    if (table.unique) parts.push(`UNIQUE (${table.unique.map((c) => (c === 'key' ? '"key"' : c)).join(', ')})`);
    for (const [column, target] of table.references ?? []) {
      parts.push(`FOREIGN KEY (${column}) REFERENCES ${target} (${column})`);
    }
    if (table.check) parts.push(`CHECK (${table.check})`);
    statements.push(`CREATE TABLE ${table.name} (\n  ${parts.join(',\n  ')}\n)`);
  }
  statements.push(
    'CREATE UNIQUE INDEX ix_studies_study_name ON studies (study_name)',
    'CREATE INDEX ix_trials_study_id ON trials (study_id)',
    'CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))',
    `INSERT INTO version_info (version_info_id, schema_version, library_version) VALUES (1, ${OPTUNA_SCHEMA_VERSION}, '${OPTUNA_LIBRARY_VERSION}')`,
    `INSERT INTO alembic_version (version_num) VALUES ('${OPTUNA_SCHEMA_REVISION}')`,
  );
  return statements;
}

/** The one-line refusal of a store at another revision, naming both. */
export function revisionMismatch(where: string, found: string): string {
  return (
    `${where} is at Optuna schema revision '${found}', regraft reads and writes revision '${OPTUNA_SCHEMA_REVISION}' ` +
    `(Optuna 3.2 to 5); upgrade it with 'optuna storage upgrade --storage URL' or use another storage`
  );
}
