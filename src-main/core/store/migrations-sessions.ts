/**
 * The schema migrations of labeling sessions (versions 8 on: item states, learned metrics, offer outcomes), in
 * `MIGRATIONS`' order after the library's own (./migrations.ts). Never edit one that has shipped: add a new one.
 */
import type { Migration } from './migration.ts';

export const SESSION_MIGRATIONS: Migration[] = [
  {
    // the members of a run the user decided (named, confirmed, moved, split into a named part, made into a person, not
    // a face), and how; written by the edit engine with each edit that decides, so undo and redo restore them. A
    // member without a row was placed by the run.
    version: 8,
    name: 'item states',
    sql: `
      CREATE TABLE item_states (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        item_id INTEGER NOT NULL,
        how TEXT NOT NULL CHECK (how IN ('named', 'confirmed', 'moved', 'split', 'person', 'not-face')),
        at INTEGER NOT NULL,
        PRIMARY KEY (run_id, item_id)
      ) WITHOUT ROWID;
      -- an item's states go with it
      CREATE TRIGGER photos_states_gone AFTER DELETE ON photos BEGIN
        DELETE FROM item_states WHERE item_id = OLD.id AND run_id IN (SELECT id FROM runs WHERE kind = 'photo');
      END;
      CREATE TRIGGER faces_states_gone AFTER DELETE ON faces BEGIN
        DELETE FROM item_states WHERE item_id = OLD.id AND run_id IN (SELECT id FROM runs WHERE kind = 'face');
      END;
    `,
  },
  {
    // a metric learned from a labeling session's explicit decisions, one per embedding model of the library: the PCA
    // start (mean, axes) and the learned map, with what it was trained on and its held-out accuracy before and after
    version: 9,
    name: 'learned metrics',
    sql: `
      CREATE TABLE learned_metrics (
        model TEXT PRIMARY KEY REFERENCES models(name) ON DELETE CASCADE,
        run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL,
        d INTEGER NOT NULL,
        p INTEGER NOT NULL,
        k INTEGER NOT NULL,
        mean BLOB NOT NULL,
        basis BLOB NOT NULL,
        w BLOB NOT NULL,
        pairs INTEGER NOT NULL,
        held_out INTEGER NOT NULL,
        before REAL,
        after REAL,
        model_revision INTEGER NOT NULL,
        version INTEGER NOT NULL DEFAULT 1,
        created_at INTEGER NOT NULL
      );
    `,
  },
  {
    // what the user did with a queue's offers: each offer confirmed or rejected by an edit, at the margin it was offered
    // at and whether a learned metric made it; the queues' learned margin is fitted to those of edits not undone
    version: 10,
    name: 'offer outcomes',
    sql: `
      CREATE TABLE offer_outcomes (
        edit_id INTEGER NOT NULL REFERENCES edits(id) ON DELETE CASCADE,
        margin REAL NOT NULL,
        accepted INTEGER NOT NULL CHECK (accepted IN (0, 1)),
        learned INTEGER NOT NULL CHECK (learned IN (0, 1))
      );
      CREATE INDEX offer_outcomes_edit ON offer_outcomes(edit_id);
    `,
  },
];
