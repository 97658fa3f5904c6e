-- index assignments_cluster
CREATE INDEX assignments_cluster ON assignments(run_id, cluster);

-- index clusters_group
CREATE INDEX clusters_group ON clusters(group_id);

-- index edits_run
CREATE INDEX edits_run ON edits(run_id, id);

-- index embeddings_model_item
CREATE INDEX embeddings_model_item ON embeddings(model, item_id);

-- index faces_photo
CREATE INDEX faces_photo ON faces(photo_id);

-- index group_members_item
CREATE INDEX group_members_item ON group_members(item_id);

-- index not_faces_face
CREATE INDEX not_faces_face ON not_faces(face_id);

-- index not_faces_hash
CREATE INDEX not_faces_hash ON not_faces(photo_hash);

-- index offer_outcomes_edit
CREATE INDEX offer_outcomes_edit ON offer_outcomes(edit_id);

-- index photos_hash
CREATE INDEX photos_hash ON photos(hash);

-- index photos_root
CREATE INDEX photos_root ON photos(root_id, status);

-- index suggestion_rejects_group
CREATE INDEX suggestion_rejects_group ON suggestion_rejects(group_id, item_id);

-- table assignments
CREATE TABLE assignments (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        item_id INTEGER NOT NULL,
        cluster INTEGER NOT NULL,
        original INTEGER NOT NULL,
        sim REAL,
        prob REAL,
        outlier REAL, added_at INTEGER,
        PRIMARY KEY (run_id, item_id)
      ) WITHOUT ROWID;

-- table clusters
CREATE TABLE clusters (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        cluster INTEGER NOT NULL,
        size INTEGER NOT NULL,
        mean_sim REAL,
        centroid BLOB,
        top TEXT NOT NULL DEFAULT '[]',
        tail TEXT NOT NULL DEFAULT '[]',
        name TEXT,
        curated INTEGER NOT NULL DEFAULT 0, group_id INTEGER REFERENCES groups(id) ON DELETE SET NULL, hidden INTEGER NOT NULL DEFAULT 0, avatar INTEGER, changed_at INTEGER,
        PRIMARY KEY (run_id, cluster)
      ) WITHOUT ROWID;

-- table edits
CREATE TABLE edits (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        op TEXT NOT NULL,
        undone INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL
      );

-- table embeddings
CREATE TABLE embeddings (
        model TEXT NOT NULL REFERENCES models(name) ON DELETE CASCADE,
        item_id INTEGER NOT NULL,
        version TEXT NOT NULL,
        vec BLOB NOT NULL,
        extra BLOB,
        PRIMARY KEY (model, item_id)
      ) WITHOUT ROWID;

-- table exports
CREATE TABLE exports (
        id INTEGER PRIMARY KEY,
        run_id INTEGER,
        dir TEXT NOT NULL,
        format TEXT NOT NULL,
        count INTEGER NOT NULL,
        created_at INTEGER NOT NULL
      );

-- table faces
CREATE TABLE "faces" (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
        detector TEXT NOT NULL,
        x REAL NOT NULL, y REAL NOT NULL, w REAL NOT NULL, h REAL NOT NULL,
        score REAL NOT NULL,
        landmarks BLOB,
        thumb TEXT,
        created_at INTEGER NOT NULL
      , manual INTEGER NOT NULL DEFAULT 0);

-- table group_members
CREATE TABLE group_members (
        group_id INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
        item_id INTEGER NOT NULL,
        PRIMARY KEY (group_id, item_id)
      ) WITHOUT ROWID;

-- table groups
CREATE TABLE groups (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL CHECK (kind IN ('photo', 'face')),
        name TEXT,
        curated INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      , hidden INTEGER NOT NULL DEFAULT 0, avatar INTEGER);

-- table item_states
CREATE TABLE item_states (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        item_id INTEGER NOT NULL,
        how TEXT NOT NULL CHECK (how IN ('named', 'confirmed', 'moved', 'split', 'person', 'not-face')),
        at INTEGER NOT NULL,
        PRIMARY KEY (run_id, item_id)
      ) WITHOUT ROWID;

-- table jobs
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

-- table labels
CREATE TABLE labels (
        kind TEXT NOT NULL,
        item_id INTEGER NOT NULL,
        label TEXT NOT NULL,
        source TEXT NOT NULL,
        PRIMARY KEY (kind, item_id, source)
      ) WITHOUT ROWID;

-- table learned_metrics
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

-- table maps
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

-- table merge_rejects
CREATE TABLE merge_rejects (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        a INTEGER NOT NULL,
        b INTEGER NOT NULL,
        group_a INTEGER REFERENCES groups(id) ON DELETE SET NULL,
        group_b INTEGER REFERENCES groups(id) ON DELETE SET NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (run_id, a, b)
      ) WITHOUT ROWID;

-- table meta
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

-- table models
CREATE TABLE models (
        name TEXT PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('photo', 'face')),
        dim INTEGER NOT NULL,
        version TEXT NOT NULL,
        source TEXT NOT NULL,
        info TEXT NOT NULL DEFAULT '{}'
      , revision INTEGER NOT NULL DEFAULT 0);

-- table not_faces
CREATE TABLE not_faces (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        photo_hash TEXT NOT NULL,
        x REAL NOT NULL, y REAL NOT NULL, w REAL NOT NULL, h REAL NOT NULL,
        face_id INTEGER,
        created_at INTEGER NOT NULL
      );

-- table offer_outcomes
CREATE TABLE offer_outcomes (
        edit_id INTEGER NOT NULL REFERENCES edits(id) ON DELETE CASCADE,
        margin REAL NOT NULL,
        accepted INTEGER NOT NULL CHECK (accepted IN (0, 1)),
        learned INTEGER NOT NULL CHECK (learned IN (0, 1))
      );

-- table photos
CREATE TABLE "photos" (
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

-- table processed
CREATE TABLE processed (
        model TEXT NOT NULL REFERENCES models(name) ON DELETE CASCADE,
        photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
        version TEXT NOT NULL,
        hash TEXT NOT NULL,
        error TEXT,
        PRIMARY KEY (model, photo_id)
      );

-- table roots
CREATE TABLE "roots" (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        path TEXT NOT NULL UNIQUE,
        added_at INTEGER NOT NULL,
        last_scan_at INTEGER
      );

-- table runs
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

-- table scan_issues
CREATE TABLE scan_issues (
        path TEXT PRIMARY KEY,
        root_id INTEGER REFERENCES roots(id) ON DELETE CASCADE,
        size INTEGER,
        mtime_ms INTEGER,
        reason TEXT NOT NULL,
        at INTEGER NOT NULL
      );

-- table schema_migrations
CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL);

-- table settings
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);

-- table sqlite_sequence
CREATE TABLE sqlite_sequence(name,seq);

-- table suggestion_rejects
CREATE TABLE suggestion_rejects (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        cluster INTEGER NOT NULL,
        item_id INTEGER NOT NULL,
        group_id INTEGER REFERENCES groups(id) ON DELETE SET NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (run_id, cluster, item_id)
      ) WITHOUT ROWID;

-- trigger assignments_item_exists
CREATE TRIGGER assignments_item_exists BEFORE INSERT ON assignments
      WHEN NOT EXISTS (SELECT 1 FROM runs r WHERE r.id = NEW.run_id AND (
        (r.kind = 'photo' AND EXISTS (SELECT 1 FROM photos p WHERE p.id = NEW.item_id)) OR
        (r.kind = 'face' AND EXISTS (SELECT 1 FROM faces f WHERE f.id = NEW.item_id))))
      BEGIN SELECT RAISE(ABORT, 'assignments: no such item for this run (FOREIGN KEY constraint failed)'); END;

-- trigger assignments_item_update
CREATE TRIGGER assignments_item_update BEFORE UPDATE OF run_id, item_id ON assignments
      WHEN NEW.run_id != OLD.run_id OR NEW.item_id != OLD.item_id
      BEGIN SELECT RAISE(ABORT, 'assignments: an assignment cannot move to another item'); END;

-- trigger embeddings_item_exists
CREATE TRIGGER embeddings_item_exists BEFORE INSERT ON embeddings
      WHEN NOT EXISTS (SELECT 1 FROM models m WHERE m.name = NEW.model AND (
        (m.kind = 'photo' AND EXISTS (SELECT 1 FROM photos p WHERE p.id = NEW.item_id)) OR
        (m.kind = 'face' AND EXISTS (SELECT 1 FROM faces f WHERE f.id = NEW.item_id))))
      BEGIN SELECT RAISE(ABORT, 'embeddings: no such item for this model (FOREIGN KEY constraint failed)'); END;

-- trigger embeddings_item_update
CREATE TRIGGER embeddings_item_update BEFORE UPDATE OF model, item_id ON embeddings
      WHEN NEW.model != OLD.model OR NEW.item_id != OLD.item_id
      BEGIN SELECT RAISE(ABORT, 'embeddings: an embedding cannot move to another item'); END;

-- trigger embeddings_rev_delete
CREATE TRIGGER embeddings_rev_delete AFTER DELETE ON embeddings BEGIN
        UPDATE models SET revision = revision + 1 WHERE name = OLD.model;
      END;

-- trigger embeddings_rev_insert
CREATE TRIGGER embeddings_rev_insert AFTER INSERT ON embeddings BEGIN
        UPDATE models SET revision = revision + 1 WHERE name = NEW.model;
      END;

-- trigger embeddings_rev_update
CREATE TRIGGER embeddings_rev_update AFTER UPDATE ON embeddings BEGIN
        UPDATE models SET revision = revision + 1 WHERE name = NEW.model;
      END;

-- trigger faces_group_gone
CREATE TRIGGER faces_group_gone AFTER DELETE ON faces BEGIN
        DELETE FROM group_members WHERE item_id = OLD.id AND group_id IN (SELECT id FROM groups WHERE kind = 'face');
      END;

-- trigger faces_item_gone
CREATE TRIGGER faces_item_gone AFTER DELETE ON faces BEGIN
        DELETE FROM embeddings WHERE item_id = OLD.id AND model IN (SELECT name FROM models WHERE kind = 'face');
        DELETE FROM labels WHERE kind = 'face' AND item_id = OLD.id;
        DELETE FROM assignments WHERE item_id = OLD.id AND run_id IN (SELECT id FROM runs WHERE kind = 'face');
      END;

-- trigger faces_rejects_gone
CREATE TRIGGER faces_rejects_gone AFTER DELETE ON faces BEGIN
        DELETE FROM suggestion_rejects WHERE item_id = OLD.id AND run_id IN (SELECT id FROM runs WHERE kind = 'face');
        UPDATE not_faces SET face_id = NULL WHERE face_id = OLD.id;
      END;

-- trigger faces_states_gone
CREATE TRIGGER faces_states_gone AFTER DELETE ON faces BEGIN
        DELETE FROM item_states WHERE item_id = OLD.id AND run_id IN (SELECT id FROM runs WHERE kind = 'face');
      END;

-- trigger group_members_item_exists
CREATE TRIGGER group_members_item_exists BEFORE INSERT ON group_members
      WHEN NOT EXISTS (SELECT 1 FROM groups g WHERE g.id = NEW.group_id AND (
        (g.kind = 'photo' AND EXISTS (SELECT 1 FROM photos p WHERE p.id = NEW.item_id)) OR
        (g.kind = 'face' AND EXISTS (SELECT 1 FROM faces f WHERE f.id = NEW.item_id))))
      BEGIN SELECT RAISE(ABORT, 'group_members: no such item for this group (FOREIGN KEY constraint failed)'); END;

-- trigger labels_item_exists
CREATE TRIGGER labels_item_exists BEFORE INSERT ON labels
      WHEN NOT ((NEW.kind = 'photo' AND EXISTS (SELECT 1 FROM photos p WHERE p.id = NEW.item_id)) OR
        (NEW.kind = 'face' AND EXISTS (SELECT 1 FROM faces f WHERE f.id = NEW.item_id)))
      BEGIN SELECT RAISE(ABORT, 'labels: no such item (FOREIGN KEY constraint failed)'); END;

-- trigger labels_item_update
CREATE TRIGGER labels_item_update BEFORE UPDATE OF kind, item_id ON labels
      WHEN NEW.kind != OLD.kind OR NEW.item_id != OLD.item_id
      BEGIN SELECT RAISE(ABORT, 'labels: a label cannot move to another item'); END;

-- trigger models_kind_fixed
CREATE TRIGGER models_kind_fixed BEFORE UPDATE OF kind ON models WHEN NEW.kind != OLD.kind
      BEGIN SELECT RAISE(ABORT, 'models: kind cannot change'); END;

-- trigger photos_group_gone
CREATE TRIGGER photos_group_gone AFTER DELETE ON photos BEGIN
        DELETE FROM group_members WHERE item_id = OLD.id AND group_id IN (SELECT id FROM groups WHERE kind = 'photo');
      END;

-- trigger photos_item_gone
CREATE TRIGGER photos_item_gone AFTER DELETE ON photos BEGIN
        DELETE FROM embeddings WHERE item_id = OLD.id AND model IN (SELECT name FROM models WHERE kind = 'photo');
        DELETE FROM labels WHERE kind = 'photo' AND item_id = OLD.id;
        DELETE FROM assignments WHERE item_id = OLD.id AND run_id IN (SELECT id FROM runs WHERE kind = 'photo');
      END;

-- trigger photos_rejects_gone
CREATE TRIGGER photos_rejects_gone AFTER DELETE ON photos BEGIN
        DELETE FROM suggestion_rejects WHERE item_id = OLD.id AND run_id IN (SELECT id FROM runs WHERE kind = 'photo');
      END;

-- trigger photos_states_gone
CREATE TRIGGER photos_states_gone AFTER DELETE ON photos BEGIN
        DELETE FROM item_states WHERE item_id = OLD.id AND run_id IN (SELECT id FROM runs WHERE kind = 'photo');
      END;

-- trigger runs_kind_fixed
CREATE TRIGGER runs_kind_fixed BEFORE UPDATE OF kind ON runs WHEN NEW.kind != OLD.kind
      BEGIN SELECT RAISE(ABORT, 'runs: kind cannot change'); END;
