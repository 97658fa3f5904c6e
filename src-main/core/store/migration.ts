/** One numbered schema migration (./migrations.ts lists them in order). */
export interface Migration {
  version: number;
  name: string;
  sql: string;
  /**
   * Runs with foreign key enforcement off (SQLite's way to rebuild a table that others reference: a DROP TABLE with
   * it on would cascade); `foreign_key_check` must come out empty before the migration commits.
   */
  rebuildsTables?: boolean;
}
