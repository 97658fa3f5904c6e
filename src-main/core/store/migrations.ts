/**
 * Numbered schema migrations. Each runs once, in order, inside a transaction, and is recorded in `schema_migrations`.
 * Never edit a migration that has shipped: add a new one.
 */
import type { Migration } from './migration.ts';
import { SESSION_MIGRATIONS } from './migrations-sessions.ts';

export type { Migration };

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'library',
    sql: `
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE roots (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL UNIQUE,
        added_at INTEGER NOT NULL,
        last_scan_at INTEGER
      );
      CREATE TABLE photos (
        id INTEGER PRIMARY KEY,
        root_id INTEGER NOT NULL REFERENCES roots(id) ON DELETE CASCADE,
        path TEXT NOT NULL UNIQUE,
        rel_path TEXT NOT NULL,
        folder TEXT NOT NULL,
        size INTEGER NOT NULL,
        mtime_ms INTEGER NOT NULL,
        hash TEXT NOT NULL,
        width INTEGER NOT NULL,
        height INTEGER NOT NULL,
        format TEXT NOT NULL,
        orientation INTEGER,
        taken_at TEXT,
        status TEXT NOT NULL DEFAULT 'ok' CHECK (status IN ('ok', 'missing')),
        added_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX photos_hash ON photos(hash);
      CREATE INDEX photos_root ON photos(root_id, status);
      CREATE TABLE scan_issues (
        path TEXT PRIMARY KEY,
        root_id INTEGER REFERENCES roots(id) ON DELETE CASCADE,
        size INTEGER,
        mtime_ms INTEGER,
        reason TEXT NOT NULL,
        at INTEGER NOT NULL
      );
      CREATE TABLE jobs (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        state TEXT NOT NULL,
        params TEXT NOT NULL DEFAULT '{}',
        stage TEXT NOT NULL DEFAULT '',
        done INTEGER NOT NULL DEFAULT 0,
        total INTEGER NOT NULL DEFAULT 0,
        error TEXT,
        result TEXT,
        created_at INTEGER NOT NULL,
        started_at INTEGER,
        finished_at INTEGER
      );
    `,
  },
  {
    version: 2,
    name: 'faces-models-embeddings',
    sql: `
      CREATE TABLE faces (
        id INTEGER PRIMARY KEY,
        photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
        detector TEXT NOT NULL,
        x REAL NOT NULL, y REAL NOT NULL, w REAL NOT NULL, h REAL NOT NULL,
        score REAL NOT NULL,
        landmarks BLOB,
        thumb TEXT,
        created_at INTEGER NOT NULL
      );
      CREATE INDEX faces_photo ON faces(photo_id);
      CREATE TABLE models (
        name TEXT PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('photo', 'face')),
        dim INTEGER NOT NULL,
        version TEXT NOT NULL,
        source TEXT NOT NULL,
        info TEXT NOT NULL DEFAULT '{}'
      );
      -- which photos a model has processed (a face model may find no face: still processed)
      CREATE TABLE processed (
        model TEXT NOT NULL REFERENCES models(name) ON DELETE CASCADE,
        photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
        version TEXT NOT NULL,
        hash TEXT NOT NULL,
        error TEXT,
        PRIMARY KEY (model, photo_id)
      );
      -- item_id is a photos.id for photo models and a faces.id for face models
      CREATE TABLE embeddings (
        model TEXT NOT NULL REFERENCES models(name) ON DELETE CASCADE,
        item_id INTEGER NOT NULL,
        version TEXT NOT NULL,
        vec BLOB NOT NULL,
        extra BLOB,
        PRIMARY KEY (model, item_id)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 3,
    name: 'runs-clusters-labels-edits',
    sql: `
      CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        model TEXT NOT NULL,
        kind TEXT NOT NULL,
        algo TEXT NOT NULL,
        params TEXT NOT NULL,
        metrics TEXT NOT NULL DEFAULT '{}',
        timings TEXT NOT NULL DEFAULT '{}',
        record TEXT NOT NULL DEFAULT '{}',
        n INTEGER NOT NULL,
        clusters INTEGER NOT NULL,
        noise INTEGER NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE assignments (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        item_id INTEGER NOT NULL,
        cluster INTEGER NOT NULL,
        original INTEGER NOT NULL,
        sim REAL,
        prob REAL,
        outlier REAL,
        PRIMARY KEY (run_id, item_id)
      ) WITHOUT ROWID;
      CREATE INDEX assignments_cluster ON assignments(run_id, cluster);
      CREATE TABLE clusters (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        cluster INTEGER NOT NULL,
        size INTEGER NOT NULL,
        mean_sim REAL,
        centroid BLOB,
        top TEXT NOT NULL DEFAULT '[]',
        tail TEXT NOT NULL DEFAULT '[]',
        name TEXT,
        curated INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (run_id, cluster)
      ) WITHOUT ROWID;
      CREATE TABLE labels (
        kind TEXT NOT NULL,
        item_id INTEGER NOT NULL,
        label TEXT NOT NULL,
        source TEXT NOT NULL,
        PRIMARY KEY (kind, item_id, source)
      ) WITHOUT ROWID;
      CREATE TABLE edits (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        op TEXT NOT NULL,
        undone INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL
      );
      CREATE INDEX edits_run ON edits(run_id, id);
      CREATE TABLE maps (
        id INTEGER PRIMARY KEY,
        model TEXT NOT NULL,
        method TEXT NOT NULL,
        params TEXT NOT NULL,
        n INTEGER NOT NULL,
        ids BLOB NOT NULL,
        xy BLOB NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE exports (
        id INTEGER PRIMARY KEY,
        run_id INTEGER,
        dir TEXT NOT NULL,
        format TEXT NOT NULL,
        count INTEGER NOT NULL,
        created_at INTEGER NOT NULL
      );
    `,
  },
  {
    // One identity per item, enforced by the library itself. An item is (kind, id): a row of photos or of faces, whose
    // ids are AUTOINCREMENT from now on (a freed id is never given to another photo or face; nor a removed folder's id
    // to another folder). Embeddings, labels and run
    // assignments name an item by that pair (embeddings and assignments through their model's or run's kind); they
    // can no longer be written for an item that does not exist, and they go when their item goes (triggers: SQLite's
    // foreign keys cannot point at one of two tables). Rows already left dangling by earlier versions point at
    // nothing, or at an item that reused the id, and are dropped here. Every write to a model's embeddings bumps the
    // model's revision, the key of in-memory matrix caches.
    version: 4,
    name: 'item-identity',
    rebuildsTables: true,
    sql: `
      CREATE TABLE roots_v4 (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        path TEXT NOT NULL UNIQUE,
        added_at INTEGER NOT NULL,
        last_scan_at INTEGER
      );
      INSERT INTO roots_v4 SELECT id, path, added_at, last_scan_at FROM roots;
      DROP TABLE roots;
      ALTER TABLE roots_v4 RENAME TO roots;
      CREATE TABLE photos_v4 (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        root_id INTEGER NOT NULL REFERENCES roots(id) ON DELETE CASCADE,
        path TEXT NOT NULL UNIQUE,
        rel_path TEXT NOT NULL,
        folder TEXT NOT NULL,
        size INTEGER NOT NULL,
        mtime_ms INTEGER NOT NULL,
        hash TEXT NOT NULL,
        width INTEGER NOT NULL,
        height INTEGER NOT NULL,
        format TEXT NOT NULL,
        orientation INTEGER,
        taken_at TEXT,
        status TEXT NOT NULL DEFAULT 'ok' CHECK (status IN ('ok', 'missing')),
        added_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      INSERT INTO photos_v4 SELECT id, root_id, path, rel_path, folder, size, mtime_ms, hash, width, height, format,
        orientation, taken_at, status, added_at, updated_at FROM photos;
      DROP TABLE photos;
      ALTER TABLE photos_v4 RENAME TO photos;
      CREATE INDEX photos_hash ON photos(hash);
      CREATE INDEX photos_root ON photos(root_id, status);
      CREATE TABLE faces_v4 (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
        detector TEXT NOT NULL,
        x REAL NOT NULL, y REAL NOT NULL, w REAL NOT NULL, h REAL NOT NULL,
        score REAL NOT NULL,
        landmarks BLOB,
        thumb TEXT,
        created_at INTEGER NOT NULL
      );
      INSERT INTO faces_v4 SELECT id, photo_id, detector, x, y, w, h, score, landmarks, thumb, created_at FROM faces;
      DROP TABLE faces;
      ALTER TABLE faces_v4 RENAME TO faces;
      CREATE INDEX faces_photo ON faces(photo_id);

      -- ids still named by rows left behind (below) are never given out again either
      INSERT INTO sqlite_sequence (name, seq) SELECT t.name, 0 FROM (SELECT 'photos' AS name UNION ALL SELECT 'faces') t
        WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence s WHERE s.name = t.name);
      UPDATE sqlite_sequence SET seq = MAX(seq,
        COALESCE((SELECT MAX(id) FROM photos), 0),
        COALESCE((SELECT MAX(item_id) FROM embeddings WHERE model IN (SELECT name FROM models WHERE kind = 'photo')), 0),
        COALESCE((SELECT MAX(item_id) FROM labels WHERE kind = 'photo'), 0),
        COALESCE((SELECT MAX(item_id) FROM assignments WHERE run_id IN (SELECT id FROM runs WHERE kind = 'photo')), 0))
        WHERE name = 'photos';
      UPDATE sqlite_sequence SET seq = MAX(seq,
        COALESCE((SELECT MAX(id) FROM faces), 0),
        COALESCE((SELECT MAX(item_id) FROM embeddings WHERE model IN (SELECT name FROM models WHERE kind = 'face')), 0),
        COALESCE((SELECT MAX(item_id) FROM labels WHERE kind = 'face'), 0),
        COALESCE((SELECT MAX(item_id) FROM assignments WHERE run_id IN (SELECT id FROM runs WHERE kind = 'face')), 0))
        WHERE name = 'faces';

      -- what earlier versions left behind when photos or faces were removed
      DELETE FROM embeddings WHERE NOT EXISTS (SELECT 1 FROM models m WHERE m.name = embeddings.model AND (
        (m.kind = 'photo' AND EXISTS (SELECT 1 FROM photos p WHERE p.id = embeddings.item_id)) OR
        (m.kind = 'face' AND EXISTS (SELECT 1 FROM faces f WHERE f.id = embeddings.item_id))));
      DELETE FROM labels WHERE NOT (
        (kind = 'photo' AND EXISTS (SELECT 1 FROM photos p WHERE p.id = labels.item_id)) OR
        (kind = 'face' AND EXISTS (SELECT 1 FROM faces f WHERE f.id = labels.item_id)));
      DELETE FROM assignments WHERE NOT EXISTS (SELECT 1 FROM runs r WHERE r.id = assignments.run_id AND (
        (r.kind = 'photo' AND EXISTS (SELECT 1 FROM photos p WHERE p.id = assignments.item_id)) OR
        (r.kind = 'face' AND EXISTS (SELECT 1 FROM faces f WHERE f.id = assignments.item_id))));
      -- the groups that lost members to that: sizes and samples as their assignments say
      UPDATE clusters SET
        size = (SELECT COUNT(*) FROM assignments a WHERE a.run_id = clusters.run_id AND a.cluster = clusters.cluster),
        top = (SELECT json_group_array(json(j.value)) FROM json_each(clusters.top) j WHERE EXISTS (SELECT 1 FROM assignments a
          WHERE a.run_id = clusters.run_id AND a.cluster = clusters.cluster AND a.item_id = json_extract(j.value, '$.item'))),
        tail = (SELECT json_group_array(json(j.value)) FROM json_each(clusters.tail) j WHERE EXISTS (SELECT 1 FROM assignments a
          WHERE a.run_id = clusters.run_id AND a.cluster = clusters.cluster AND a.item_id = json_extract(j.value, '$.item')))
        WHERE size != (SELECT COUNT(*) FROM assignments a WHERE a.run_id = clusters.run_id AND a.cluster = clusters.cluster);
      UPDATE runs SET n = (SELECT COUNT(*) FROM assignments a WHERE a.run_id = runs.id)
        WHERE n != (SELECT COUNT(*) FROM assignments a WHERE a.run_id = runs.id);

      -- an item's rows go with it (also when a folder's removal cascades to its photos and their faces)
      CREATE TRIGGER photos_item_gone AFTER DELETE ON photos BEGIN
        DELETE FROM embeddings WHERE item_id = OLD.id AND model IN (SELECT name FROM models WHERE kind = 'photo');
        DELETE FROM labels WHERE kind = 'photo' AND item_id = OLD.id;
        DELETE FROM assignments WHERE item_id = OLD.id AND run_id IN (SELECT id FROM runs WHERE kind = 'photo');
      END;
      CREATE TRIGGER faces_item_gone AFTER DELETE ON faces BEGIN
        DELETE FROM embeddings WHERE item_id = OLD.id AND model IN (SELECT name FROM models WHERE kind = 'face');
        DELETE FROM labels WHERE kind = 'face' AND item_id = OLD.id;
        DELETE FROM assignments WHERE item_id = OLD.id AND run_id IN (SELECT id FROM runs WHERE kind = 'face');
      END;

      -- nothing names an item that does not exist
      CREATE TRIGGER embeddings_item_exists BEFORE INSERT ON embeddings
      WHEN NOT EXISTS (SELECT 1 FROM models m WHERE m.name = NEW.model AND (
        (m.kind = 'photo' AND EXISTS (SELECT 1 FROM photos p WHERE p.id = NEW.item_id)) OR
        (m.kind = 'face' AND EXISTS (SELECT 1 FROM faces f WHERE f.id = NEW.item_id))))
      BEGIN SELECT RAISE(ABORT, 'embeddings: no such item for this model (FOREIGN KEY constraint failed)'); END;
      CREATE TRIGGER embeddings_item_update BEFORE UPDATE OF model, item_id ON embeddings
      WHEN NEW.model != OLD.model OR NEW.item_id != OLD.item_id
      BEGIN SELECT RAISE(ABORT, 'embeddings: an embedding cannot move to another item'); END;
      CREATE TRIGGER labels_item_exists BEFORE INSERT ON labels
      WHEN NOT ((NEW.kind = 'photo' AND EXISTS (SELECT 1 FROM photos p WHERE p.id = NEW.item_id)) OR
        (NEW.kind = 'face' AND EXISTS (SELECT 1 FROM faces f WHERE f.id = NEW.item_id)))
      BEGIN SELECT RAISE(ABORT, 'labels: no such item (FOREIGN KEY constraint failed)'); END;
      CREATE TRIGGER labels_item_update BEFORE UPDATE OF kind, item_id ON labels
      WHEN NEW.kind != OLD.kind OR NEW.item_id != OLD.item_id
      BEGIN SELECT RAISE(ABORT, 'labels: a label cannot move to another item'); END;
      CREATE TRIGGER assignments_item_exists BEFORE INSERT ON assignments
      WHEN NOT EXISTS (SELECT 1 FROM runs r WHERE r.id = NEW.run_id AND (
        (r.kind = 'photo' AND EXISTS (SELECT 1 FROM photos p WHERE p.id = NEW.item_id)) OR
        (r.kind = 'face' AND EXISTS (SELECT 1 FROM faces f WHERE f.id = NEW.item_id))))
      BEGIN SELECT RAISE(ABORT, 'assignments: no such item for this run (FOREIGN KEY constraint failed)'); END;
      CREATE TRIGGER assignments_item_update BEFORE UPDATE OF run_id, item_id ON assignments
      WHEN NEW.run_id != OLD.run_id OR NEW.item_id != OLD.item_id
      BEGIN SELECT RAISE(ABORT, 'assignments: an assignment cannot move to another item'); END;
      -- a model's or run's kind is what its item ids mean: it never changes
      CREATE TRIGGER models_kind_fixed BEFORE UPDATE OF kind ON models WHEN NEW.kind != OLD.kind
      BEGIN SELECT RAISE(ABORT, 'models: kind cannot change'); END;
      CREATE TRIGGER runs_kind_fixed BEFORE UPDATE OF kind ON runs WHEN NEW.kind != OLD.kind
      BEGIN SELECT RAISE(ABORT, 'runs: kind cannot change'); END;

      -- every write to a model's embeddings bumps its revision
      ALTER TABLE models ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
      CREATE TRIGGER embeddings_rev_insert AFTER INSERT ON embeddings BEGIN
        UPDATE models SET revision = revision + 1 WHERE name = NEW.model;
      END;
      CREATE TRIGGER embeddings_rev_update AFTER UPDATE ON embeddings BEGIN
        UPDATE models SET revision = revision + 1 WHERE name = NEW.model;
      END;
      CREATE TRIGGER embeddings_rev_delete AFTER DELETE ON embeddings BEGIN
        UPDATE models SET revision = revision + 1 WHERE name = OLD.model;
      END;
    `,
  },
  {
    // named and curated groups are the library's, not one run's. A run's cluster that is named or curated
    // points at its group (clusters.group_id); the group keeps its members and name across runs, and a new run holds
    // the curated ones (core/curation/groups.ts).
    version: 5,
    name: 'library groups',
    sql: `
      CREATE TABLE groups (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL CHECK (kind IN ('photo', 'face')),
        name TEXT,
        curated INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE TABLE group_members (
        group_id INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
        item_id INTEGER NOT NULL,
        PRIMARY KEY (group_id, item_id)
      ) WITHOUT ROWID;
      CREATE INDEX group_members_item ON group_members(item_id);
      ALTER TABLE clusters ADD COLUMN group_id INTEGER REFERENCES groups(id) ON DELETE SET NULL;
      CREATE INDEX clusters_group ON clusters(group_id);
      -- an item a run received after it was made (assign): when (NULL: the run's own items)
      ALTER TABLE assignments ADD COLUMN added_at INTEGER;
      -- an item's group memberships go with it
      CREATE TRIGGER photos_group_gone AFTER DELETE ON photos BEGIN
        DELETE FROM group_members WHERE item_id = OLD.id AND group_id IN (SELECT id FROM groups WHERE kind = 'photo');
      END;
      CREATE TRIGGER faces_group_gone AFTER DELETE ON faces BEGIN
        DELETE FROM group_members WHERE item_id = OLD.id AND group_id IN (SELECT id FROM groups WHERE kind = 'face');
      END;
      CREATE TRIGGER group_members_item_exists BEFORE INSERT ON group_members
      WHEN NOT EXISTS (SELECT 1 FROM groups g WHERE g.id = NEW.group_id AND (
        (g.kind = 'photo' AND EXISTS (SELECT 1 FROM photos p WHERE p.id = NEW.item_id)) OR
        (g.kind = 'face' AND EXISTS (SELECT 1 FROM faces f WHERE f.id = NEW.item_id))))
      BEGIN SELECT RAISE(ABORT, 'group_members: no such item for this group (FOREIGN KEY constraint failed)'); END;
      -- a library setting (assign after embed, watched folders): key/value JSON
      CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    `,
  },
  {
    // people and faces. A person (cluster) can be hidden and given an avatar face, kept by its library group
    // across runs; when an edit last changed it. Rejected suggestions and "not the same person" are remembered per run
    // cluster and per group; faces marked "not a face" are remembered by photo hash and box, so a rescan or re-embed of
    // the photo does not bring them back. Faces drawn by hand are flagged manual.
    version: 6,
    name: 'people and faces',
    sql: `
      ALTER TABLE clusters ADD COLUMN hidden INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE clusters ADD COLUMN avatar INTEGER;
      ALTER TABLE clusters ADD COLUMN changed_at INTEGER;
      ALTER TABLE groups ADD COLUMN hidden INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE groups ADD COLUMN avatar INTEGER;
      ALTER TABLE faces ADD COLUMN manual INTEGER NOT NULL DEFAULT 0;
      CREATE TABLE suggestion_rejects (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        cluster INTEGER NOT NULL,
        item_id INTEGER NOT NULL,
        group_id INTEGER REFERENCES groups(id) ON DELETE SET NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (run_id, cluster, item_id)
      ) WITHOUT ROWID;
      CREATE INDEX suggestion_rejects_group ON suggestion_rejects(group_id, item_id);
      CREATE TABLE merge_rejects (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        a INTEGER NOT NULL,
        b INTEGER NOT NULL,
        group_a INTEGER REFERENCES groups(id) ON DELETE SET NULL,
        group_b INTEGER REFERENCES groups(id) ON DELETE SET NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (run_id, a, b)
      ) WITHOUT ROWID;
      CREATE TABLE not_faces (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        photo_hash TEXT NOT NULL,
        x REAL NOT NULL, y REAL NOT NULL, w REAL NOT NULL, h REAL NOT NULL,
        face_id INTEGER,
        created_at INTEGER NOT NULL
      );
      CREATE INDEX not_faces_hash ON not_faces(photo_hash);
      CREATE INDEX not_faces_face ON not_faces(face_id);
      -- a face's remembered rejections go with it (its not-a-face box stays: the photo's hash and box keep it out)
      CREATE TRIGGER faces_rejects_gone AFTER DELETE ON faces BEGIN
        DELETE FROM suggestion_rejects WHERE item_id = OLD.id AND run_id IN (SELECT id FROM runs WHERE kind = 'face');
        UPDATE not_faces SET face_id = NULL WHERE face_id = OLD.id;
      END;
      CREATE TRIGGER photos_rejects_gone AFTER DELETE ON photos BEGIN
        DELETE FROM suggestion_rejects WHERE item_id = OLD.id AND run_id IN (SELECT id FROM runs WHERE kind = 'photo');
      END;
      `,
    },
    {
    // the items of a model not in a run yet (assign) are found from the keys alone: a covering index of the
    // embeddings' keys, so the lookup does not walk the table's rows and their vectors (20,000 vectors: ~100 ms -> ~10 ms)
    version: 7,
    name: 'embedding keys',
    sql: `
      CREATE INDEX embeddings_model_item ON embeddings(model, item_id);
    `,
  },
  ...SESSION_MIGRATIONS,
];

export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;
