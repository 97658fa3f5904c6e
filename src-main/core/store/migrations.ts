/**
 * Numbered schema migrations. Each runs once, in order, inside a transaction, and is recorded in `schema_migrations`.
 * Never edit a migration that has shipped: add a new one.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

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
];

export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;
