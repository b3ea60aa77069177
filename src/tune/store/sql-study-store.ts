/**
 * The study store on Optuna's tables, for both backends. The parts that make many workers safe:
 *
 * - Claiming a WAITING trial locks its row (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so workers never wait on each
 *   other's claims; the file lock of BEGIN IMMEDIATE on SQLite) and turns it RUNNING in the same transaction.
 * - A new trial is numbered, checked against the budget and given its parameters under a lock on the study row, so
 *   the strategy sees every trial any worker created before it, and no grid point or number is handed out twice.
 * - Heartbeats live in trial_heartbeats on the database's clock; a RUNNING trial whose heartbeat is older than the
 *   grace period is failed and, once, re-created as a WAITING trial with the same parameters (Optuna's
 *   fail_stale_trials with RetryFailedTrialCallback(max_retry=1): the copy records `failed_trial` and `retry_history`).
 */
import type { SearchSpace } from '../space.js';
import type { ObjectiveMode, Params } from '../types.js';
import {
  STUDY_ATTR, TRIAL_ATTR, encodeMetrics, epochKey, isoFromNaiveUtc, parseJsonOr, rungKey, setStudyAttr, setTrialAttr,
  setTrialAttrs, valueColumns,
} from './attributes.js';
import { distributionOf, fromInternal, parseDistribution, toInternal } from './distributions.js';
import type { SqlDriver, SqlTx } from './sql-driver.js';
import type {
  ClaimContext, ClaimedTrial, NewTrialRequest, StaleTrial, StoredStudy, StudyStore, TrialResult, WaitingTrialRequest,
} from './study-store.js';
import type { HistoryTrial } from '../strategies/strategy.js';
import { STUDY_INFO_QUERIES, spaceOf, studyInfoFromRows } from './study-rows.js';
import { STUDY_ROW_QUERIES, assembleTrials, readStudyRows, type StoredTrial, type StudyRows } from './trial-rows.js';

export interface CreateStudyAttrs {
  direction: ObjectiveMode;
  config: unknown;
  train?: unknown;
}

/**
 * Opens study `name`, creating it with `create` when it does not exist; null when it does not exist and `create`
 * is not given. Two workers creating the same study at once both end up in the one study.
 */
export async function openSqlStudy(driver: SqlDriver, name: string, create?: CreateStudyAttrs): Promise<SqlStudyStore | null> {
  const studyId = await driver.transaction(async (tx) => {
    const found = await tx.get<{ study_id: number }>(`SELECT study_id FROM studies WHERE study_name = ?`, [name]);
    if (found) return Number(found.study_id);
    if (!create) return null;
    const inserted = await tx.get<{ study_id: number }>(
      `INSERT INTO studies (study_name) VALUES (?) ON CONFLICT (study_name) DO NOTHING RETURNING study_id`, [name]);
    if (!inserted) return Number((await tx.get<{ study_id: number }>(`SELECT study_id FROM studies WHERE study_name = ?`, [name]))?.study_id);
    const id = Number(inserted.study_id);
    await tx.run(`INSERT INTO study_directions (direction, study_id, objective) VALUES (?, ?, 0)`, [create.direction === 'max' ? 'MAXIMIZE' : 'MINIMIZE', id]);
    await setStudyAttr(tx, id, STUDY_ATTR.config, JSON.stringify(create.config));
    if (create.train !== undefined) await setStudyAttr(tx, id, STUDY_ATTR.train, JSON.stringify(create.train));
    await setStudyAttr(tx, id, STUDY_ATTR.created, JSON.stringify(new Date().toISOString()));
    return id;
  });
  return studyId === null ? null : new SqlStudyStore(driver, studyId, name);
}

export class SqlStudyStore implements StudyStore {
  readonly where: string;

  constructor(private readonly driver: SqlDriver, readonly studyId: number, readonly name: string) {
    this.where = `study '${name}' in ${driver.where}`;
  }

  private now(): string {
    return this.driver.nowSql;
  }

  private async lockStudy(tx: SqlTx): Promise<void> {
    const sql = this.driver.lockStudySql();
    if (sql) await tx.run(sql, [this.studyId]);
  }

  async info(): Promise<StoredStudy> {
    return this.driver.transaction((tx) => this.infoIn(tx));
  }

  private async infoIn(tx: SqlTx): Promise<StoredStudy> {
    const attrs = await tx.all<{ key: string; value_json: string }>(STUDY_INFO_QUERIES.attrs, [this.studyId]);
    const direction = await tx.get<{ direction: string }>(STUDY_INFO_QUERIES.direction, [this.studyId]);
    return studyInfoFromRows(this.studyId, this.name, attrs, direction);
  }

  async setStudyAttributes(attrs: { config?: unknown; train?: unknown; direction?: ObjectiveMode }): Promise<void> {
    await this.driver.transaction(async (tx) => {
      if (attrs.config !== undefined) await setStudyAttr(tx, this.studyId, STUDY_ATTR.config, JSON.stringify(attrs.config));
      if (attrs.train !== undefined) await setStudyAttr(tx, this.studyId, STUDY_ATTR.train, JSON.stringify(attrs.train));
      if (attrs.direction) {
        const direction = attrs.direction === 'max' ? 'MAXIMIZE' : 'MINIMIZE';
        const changed = await tx.run(`UPDATE study_directions SET direction = ? WHERE study_id = ? AND objective = 0`, [direction, this.studyId]);
        if (changed === 0) await tx.run(`INSERT INTO study_directions (direction, study_id, objective) VALUES (?, ?, 0)`, [direction, this.studyId]);
      }
      const created = await tx.get(`SELECT 1 AS one FROM study_system_attributes WHERE study_id = ? AND "key" = ?`, [this.studyId, STUDY_ATTR.created]);
      if (!created) await setStudyAttr(tx, this.studyId, STUDY_ATTR.created, JSON.stringify(new Date().toISOString()));
    });
  }

  async trials(): Promise<StoredTrial[]> {
    return this.driver.transaction((tx) => this.trialsIn(tx));
  }

  private async trialsIn(tx: SqlTx): Promise<StoredTrial[]> {
    const info = await this.infoIn(tx);
    const { space, metric } = spaceOf(info.config);
    return assembleTrials(await readStudyRows((sql, params) => tx.all(sql, params), this.studyId), space, metric);
  }

  /** What a strategy needs of the trials so far (parameters, state, objective), without epochs and attributes. */
  private async historyIn(tx: SqlTx, config: unknown): Promise<HistoryTrial[]> {
    const query = (sql: string) => tx.all(sql, [this.studyId]);
    const rows: StudyRows = {
      trials: (await query(STUDY_ROW_QUERIES.trials)) as StudyRows['trials'],
      params: (await query(STUDY_ROW_QUERIES.params)) as StudyRows['params'],
      values: (await query(STUDY_ROW_QUERIES.values)) as StudyRows['values'],
      intermediate: [],
      attrs: [],
    };
    return assembleTrials(rows, spaceOf(config).space, null).map((t) => t.record);
  }

  async requeueOrphans(isGone: (worker: string) => boolean): Promise<number[]> {
    return this.driver.transaction(async (tx) => {
      const running = await tx.all<{ trial_id: number; number: number; value_json: string | null }>(
        `SELECT t.trial_id, t.number, a.value_json FROM trials t LEFT JOIN trial_system_attributes a ON a.trial_id = t.trial_id AND a."key" = ?
         WHERE t.study_id = ? AND t.state = 'RUNNING' ORDER BY t.number ${this.driver.claimRowsOfSql('t')}`,
        [TRIAL_ATTR.worker, this.studyId],
      );
      const requeued: number[] = [];
      for (const row of running) {
        const worker = parseJsonOr<string | null>(row.value_json ?? undefined, null);
        if (worker === null || !isGone(worker)) continue;
        await this.backToWaiting(tx, Number(row.trial_id));
        await setTrialAttr(tx, Number(row.trial_id), TRIAL_ATTR.note, 'left running by a study that was killed');
        requeued.push(Number(row.number) + 1);
      }
      return requeued;
    });
  }

  /** RUNNING -> WAITING; the partial attempt's epochs, rungs and intermediate values go, as it reruns from scratch. */
  private async backToWaiting(tx: SqlTx, dbId: number): Promise<void> {
    await tx.run(`UPDATE trials SET state = 'WAITING', datetime_start = NULL, datetime_complete = NULL WHERE trial_id = ? AND state = 'RUNNING'`, [dbId]);
    await tx.run(`DELETE FROM trial_heartbeats WHERE trial_id = ?`, [dbId]);
    await this.dropAttempt(tx, dbId);
  }

  private async dropAttempt(tx: SqlTx, dbId: number): Promise<void> {
    await tx.run(`DELETE FROM trial_intermediate_values WHERE trial_id = ?`, [dbId]);
    await tx.run(`DELETE FROM trial_values WHERE trial_id = ?`, [dbId]);
    await tx.run(
      `DELETE FROM trial_system_attributes WHERE trial_id = ? AND ("key" LIKE 'completed_rung_%' OR "key" LIKE 'regraft:epoch:%' OR "key" IN (?, ?))`,
      [dbId, TRIAL_ATTR.error, TRIAL_ATTR.metrics],
    );
  }

  async failStaleTrials(graceSeconds: number, maxRetry: number): Promise<StaleTrial[]> {
    // Most checks find nothing: look first without the study lock, which every worker's new trial also takes.
    const candidates = await this.driver.transaction((tx) => tx.get(
      `SELECT 1 AS one FROM trials t JOIN trial_heartbeats h ON h.trial_id = t.trial_id
       WHERE t.study_id = ? AND t.state = 'RUNNING' AND h.heartbeat < ${this.driver.secondsAgoSql} LIMIT 1`,
      [this.studyId, graceSeconds],
    ));
    if (!candidates) return [];
    return this.driver.transaction(async (tx) => {
      await this.lockStudy(tx);
      const stale = await tx.all<{ trial_id: number; number: number; heartbeat: string }>(
        `SELECT t.trial_id, t.number, h.heartbeat FROM trials t JOIN trial_heartbeats h ON h.trial_id = t.trial_id
         WHERE t.study_id = ? AND t.state = 'RUNNING' AND h.heartbeat < ${this.driver.secondsAgoSql} ORDER BY t.number ${this.driver.claimRowsOfSql('t')}`,
        [this.studyId, graceSeconds],
      );
      const result: StaleTrial[] = [];
      for (const row of stale) {
        const dbId = Number(row.trial_id);
        const changed = await tx.run(`UPDATE trials SET state = 'FAIL', datetime_complete = ${this.now()} WHERE trial_id = ? AND state = 'RUNNING'`, [dbId]);
        if (changed === 0) continue;
        const attrs = new Map((await tx.all<{ key: string; value_json: string }>(
          `SELECT "key" AS key, value_json FROM trial_system_attributes WHERE trial_id = ?`, [dbId])).map((r) => [r.key, r.value_json]));
        const worker = parseJsonOr<string>(attrs.get(TRIAL_ATTR.worker), 'unknown');
        await setTrialAttr(tx, dbId, TRIAL_ATTR.error,
          `no heartbeat from worker ${worker} since ${isoFromNaiveUtc(row.heartbeat)} (grace period ${graceSeconds} s): its process or host was lost`);

        const history = parseJsonOr<number[]>(attrs.get(TRIAL_ATTR.retryHistory), []);
        const retryHistory = [...history, Number(row.number)];
        if (maxRetry < retryHistory.length) {
          result.push({ failed: Number(row.number) + 1, retry: null });
          continue;
        }
        const number = await this.nextNumber(tx);
        const inserted = await tx.get<{ trial_id: number }>(
          `INSERT INTO trials (number, study_id, state) VALUES (?, ?, 'WAITING') RETURNING trial_id`, [number, this.studyId]);
        const retryId = Number(inserted?.trial_id);
        await tx.run(
          `INSERT INTO trial_params (trial_id, param_name, param_value, distribution_json)
           SELECT ?, param_name, param_value, distribution_json FROM trial_params WHERE trial_id = ? ORDER BY param_id`,
          [retryId, dbId],
        );
        await tx.run(
          `INSERT INTO trial_user_attributes (trial_id, "key", value_json) SELECT ?, "key", value_json FROM trial_user_attributes WHERE trial_id = ?`,
          [retryId, dbId],
        );
        const original = parseJsonOr<number>(attrs.get(TRIAL_ATTR.failedTrial), Number(row.number));
        await setTrialAttr(tx, retryId, TRIAL_ATTR.failedTrial, original);
        await setTrialAttr(tx, retryId, TRIAL_ATTR.retryHistory, retryHistory);
        if (attrs.has(TRIAL_ATTR.fixedParams)) await setTrialAttr(tx, retryId, TRIAL_ATTR.fixedParams, JSON.parse(attrs.get(TRIAL_ATTR.fixedParams) as string));
        await setTrialAttr(tx, retryId, TRIAL_ATTR.note, `retry of trial ${Number(row.number) + 1}, whose worker stopped sending heartbeats`);
        result.push({ failed: Number(row.number) + 1, retry: number + 1 });
      }
      return result;
    });
  }

  /** Optuna numbers a study's trials 0, 1, 2, ... in creation order; called with the study locked. */
  private async nextNumber(tx: SqlTx): Promise<number> {
    const row = await tx.get<{ n: number | string }>(`SELECT count(*) AS n FROM trials WHERE study_id = ?`, [this.studyId]);
    return Number(row?.n ?? 0);
  }

  async claimWaiting(request: WaitingTrialRequest): Promise<ClaimedTrial | null> {
    for (;;) {
      const outcome = await this.driver.transaction(async (tx): Promise<ClaimedTrial | 'rejected' | null> => {
        const row = await tx.get<{ trial_id: number; number: number }>(
          `SELECT trial_id, number FROM trials WHERE study_id = ? AND state = 'WAITING' ORDER BY number LIMIT 1 ${this.driver.claimRowsSql}`,
          [this.studyId],
        );
        if (!row) return null;
        const dbId = Number(row.trial_id);
        const id = Number(row.number) + 1;
        const attrs = new Map((await tx.all<{ key: string; value_json: string }>(
          `SELECT "key" AS key, value_json FROM trial_system_attributes WHERE trial_id = ?`, [dbId])).map((r) => [r.key, r.value_json]));
        const stored = await this.storedParams(tx, dbId, id);
        let params: Params;
        try {
          const fixed = parseJsonOr<Record<string, unknown>>(attrs.get(TRIAL_ATTR.fixedParams), {});
          params = request.completeParams({ ...fixed, ...stored }, id);
        } catch (err) {
          // An enqueued value outside the space: this trial cannot run, the others can.
          await tx.run(`UPDATE trials SET state = 'FAIL', datetime_start = ${this.now()}, datetime_complete = ${this.now()} WHERE trial_id = ?`, [dbId]);
          await setTrialAttr(tx, dbId, TRIAL_ATTR.error, `enqueued trial ${id}: ${err instanceof Error ? err.message : String(err)}`);
          return 'rejected';
        }
        await tx.run(`UPDATE trials SET state = 'RUNNING', datetime_start = ${this.now()}, datetime_complete = NULL WHERE trial_id = ?`, [dbId]);
        await this.writeParams(tx, dbId, params, request.space, new Set(Object.keys(stored)));
        const attempt = parseJsonOr<number>(attrs.get(TRIAL_ATTR.attempts), 0) + 1;
        const interrupted = attrs.has(TRIAL_ATTR.interrupted);
        if (interrupted || attempt > 1) {
          const before = parseJsonOr<string | null>(attrs.get(TRIAL_ATTR.note), null);
          const how = before && /^(interrupted|left running)/.test(before) ? before.replace(/; re-queued.*$/, '') : 'interrupted';
          await setTrialAttr(tx, dbId, TRIAL_ATTR.note, `${how}; re-queued ${request.claimedBy} at ${new Date().toISOString()}, rerun from scratch with the same parameters`);
          await tx.run(`DELETE FROM trial_system_attributes WHERE trial_id = ? AND "key" = ?`, [dbId, TRIAL_ATTR.interrupted]);
          await this.dropAttempt(tx, dbId);
        }
        return this.startRunning(tx, dbId, id, params, attempt, request);
      });
      if (outcome !== 'rejected') return outcome;
    }
  }

  private async storedParams(tx: SqlTx, dbId: number, id: number): Promise<Params> {
    const rows = await tx.all<{ param_name: string; param_value: number; distribution_json: string }>(
      `SELECT param_name, param_value, distribution_json FROM trial_params WHERE trial_id = ? ORDER BY param_id`, [dbId]);
    return Object.fromEntries(rows.map((r) => [r.param_name, fromInternal(parseDistribution(r.distribution_json, `trial ${id}`), Number(r.param_value))]));
  }

  private async writeParams(tx: SqlTx, dbId: number, params: Params, space: SearchSpace, present: ReadonlySet<string>): Promise<void> {
    for (const [name, value] of Object.entries(params)) {
      if (present.has(name) || !space[name]) continue;
      const distribution = distributionOf(space[name]);
      await tx.run(
        `INSERT INTO trial_params (trial_id, param_name, param_value, distribution_json) VALUES (?, ?, ?, ?)`,
        [dbId, name, toInternal(distribution, value, name), JSON.stringify(distribution)],
      );
    }
  }

  private async startRunning(tx: SqlTx, dbId: number, id: number, params: Params, attempt: number, context: ClaimContext): Promise<ClaimedTrial> {
    const runDir = context.runDirFor(id);
    await tx.run(
      `INSERT INTO trial_heartbeats (trial_id, heartbeat) VALUES (?, ${this.now()}) ON CONFLICT (trial_id) DO UPDATE SET heartbeat = excluded.heartbeat`,
      [dbId],
    );
    await setTrialAttrs(tx, dbId, [[TRIAL_ATTR.worker, context.worker], [TRIAL_ATTR.attempts, attempt], [TRIAL_ATTR.runDir, runDir]]);
    return { dbId, id, params, runDir, attempt };
  }

  async createTrial(request: NewTrialRequest): Promise<ClaimedTrial | null> {
    return this.driver.transaction(async (tx) => {
      await this.lockStudy(tx);
      const info = await this.infoIn(tx);
      const budget = Number((info.config as { trials?: unknown } | null)?.trials ?? 0);
      // Retries stand in for the trial they retry: the budget counts the others. Numbers count every trial.
      const counted = await tx.get<{ total: number | string; retries: number | string }>(
        `SELECT count(*) AS total, count(a.trial_id) AS retries FROM trials t
         LEFT JOIN trial_system_attributes a ON a.trial_id = t.trial_id AND a."key" = ? WHERE t.study_id = ?`,
        [TRIAL_ATTR.failedTrial, this.studyId],
      );
      const number = Number(counted?.total ?? 0);
      if (number - Number(counted?.retries ?? 0) >= budget) return null;
      const history = await this.historyIn(tx, info.config);
      const params = request.suggest(history, number + 1);
      if (!params) return null;
      const inserted = await tx.get<{ trial_id: number }>(
        `INSERT INTO trials (number, study_id, state, datetime_start) VALUES (?, ?, 'RUNNING', ${this.now()}) RETURNING trial_id`,
        [number, this.studyId],
      );
      const dbId = Number(inserted?.trial_id);
      await this.writeParams(tx, dbId, params, request.space, new Set());
      return this.startRunning(tx, dbId, number + 1, params, 1, request);
    });
  }

  async heartbeat(dbIds: readonly number[]): Promise<void> {
    if (dbIds.length === 0) return;
    await this.driver.transaction(async (tx) => {
      await tx.run(`UPDATE trial_heartbeats SET heartbeat = ${this.now()} WHERE trial_id IN (${dbIds.map(() => '?').join(', ')})`, [...dbIds]);
    });
  }

  async recordEpoch(dbId: number, epoch: number, metrics: Record<string, number>, intermediate: number | null): Promise<void> {
    await this.driver.transaction(async (tx) => {
      await setTrialAttr(tx, dbId, epochKey(epoch), encodeMetrics(metrics));
      if (intermediate !== null) {
        const { value, type } = valueColumns(intermediate);
        await tx.run(
          `INSERT INTO trial_intermediate_values (trial_id, step, intermediate_value, intermediate_value_type) VALUES (?, ?, ?, ?)
           ON CONFLICT (trial_id, step) DO UPDATE SET intermediate_value = excluded.intermediate_value, intermediate_value_type = excluded.intermediate_value_type`,
          [dbId, epoch, value, type],
        );
      }
    });
  }

  async reachRung(dbId: number, rung: number, value: number): Promise<number[]> {
    return this.driver.transaction(async (tx) => {
      await setTrialAttr(tx, dbId, rungKey(rung), value);
      const rows = await tx.all<{ value_json: string }>(
        `SELECT a.value_json FROM trial_system_attributes a JOIN trials t ON t.trial_id = a.trial_id WHERE t.study_id = ? AND a."key" = ?`,
        [this.studyId, rungKey(rung)],
      );
      return rows.map((r) => Number(JSON.parse(r.value_json))).filter((v) => Number.isFinite(v));
    });
  }

  async finishTrial(dbId: number, result: TrialResult): Promise<boolean> {
    return this.driver.transaction(async (tx) => {
      const changed = await tx.run(
        `UPDATE trials SET state = ?, datetime_complete = ${this.now()} WHERE trial_id = ? AND state = 'RUNNING'`, [result.state, dbId]);
      if (changed === 0) return false;
      const objective = result.objective;
      if (objective !== null && !Number.isNaN(objective) && result.state !== 'FAIL') {
        const { value, type } = valueColumns(objective);
        await tx.run(
          `INSERT INTO trial_values (trial_id, objective, value, value_type) VALUES (?, 0, ?, ?)
           ON CONFLICT (trial_id, objective) DO UPDATE SET value = excluded.value, value_type = excluded.value_type`,
          [dbId, value, type],
        );
      }
      await setTrialAttr(tx, dbId, TRIAL_ATTR.metrics, encodeMetrics(result.metrics));
      if (result.error !== undefined) await setTrialAttr(tx, dbId, TRIAL_ATTR.error, result.error);
      return true;
    });
  }

  async putBack(dbIds: readonly number[], reason: string): Promise<void> {
    if (dbIds.length === 0) return;
    await this.driver.transaction(async (tx) => {
      for (const dbId of dbIds) {
        const row = await tx.get(`SELECT 1 AS one FROM trials WHERE trial_id = ? AND state = 'RUNNING'`, [dbId]);
        if (!row) continue;
        await this.backToWaiting(tx, dbId);
        await setTrialAttr(tx, dbId, TRIAL_ATTR.interrupted, reason);
        await setTrialAttr(tx, dbId, TRIAL_ATTR.note, `interrupted (${reason}) at ${new Date().toISOString()}`);
      }
    });
  }

  async counts(): Promise<{ running: number; waiting: number }> {
    return this.driver.transaction(async (tx) => {
      const rows = await tx.all<{ state: string; n: number | string }>(
        `SELECT state, count(*) AS n FROM trials WHERE study_id = ? AND state IN ('RUNNING', 'WAITING') GROUP BY state`, [this.studyId]);
      const n = (state: string) => Number(rows.find((r) => r.state === state)?.n ?? 0);
      return { running: n('RUNNING'), waiting: n('WAITING') };
    });
  }

  async close(): Promise<void> {
    await this.driver.close();
  }
}
