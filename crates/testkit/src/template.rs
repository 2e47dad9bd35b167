//! The migrated PostgreSQL database that test databases are copied from: a copy costs a
//! fraction of migrating each test's database (BENCHMARKS.md, "Test suite").
//!
//! Its name carries the highest migration version and a hash of every migration, so an
//! added or edited migration gets a template of its own and never a stale one. The first
//! test process to need a template creates it; it then persists between runs, marked as a
//! template that accepts no connections (PostgreSQL copies no database anyone is connected
//! to). Older templates are left for the clean-up command in docs/design.md ("Tests")
//! rather than dropped here: checkouts with different migrations share one server, and each
//! would drop the other's.

use std::sync::OnceLock;

use sha2::{Digest, Sha256};

mod embedded {
    refinery::embed_migrations!("../core/migrations/postgres");
}

/// Serialises the creation of templates among test processes (advisory locks are per
/// database: every process takes it on the admin database).
const CREATION_LOCK: i64 = 0x5465_6d70_6c61_7465; // "Template"

/// The name of the template for the current migrations, created first if no one has yet.
pub(crate) fn name(admin: &mut postgres::Client, admin_url: &str) -> &'static str {
    static NAME: OnceLock<String> = OnceLock::new();
    NAME.get_or_init(|| {
        let runner = embedded::migrations::runner();
        let name = name_for(runner.get_migrations());
        admin.execute("SELECT pg_advisory_lock($1)", &[&CREATION_LOCK]).expect("take the template creation lock");
        let present = admin
            .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])
            .expect("look for the test template database")
            .is_some();
        if !present {
            create(admin, admin_url, &name, &runner);
        }
        admin.execute("SELECT pg_advisory_unlock($1)", &[&CREATION_LOCK]).expect("release the template creation lock");
        name
    })
}

/// `stockyard_template_v<latest>_<hash>`, the hash over every migration's version and
/// checksum (refinery's, of its name and SQL).
fn name_for(migrations: &[refinery::Migration]) -> String {
    let mut hasher = Sha256::new();
    for migration in migrations {
        hasher.update(format!("{}:{:016x}\n", migration.version(), migration.checksum()));
    }
    let hash: String = hasher.finalize()[..8].iter().map(|b| format!("{b:02x}")).collect();
    let latest = migrations.iter().map(refinery::Migration::version).max().unwrap_or_default();
    format!("stockyard_template_v{latest}_{hash}")
}

/// Migrates a database under a provisional name and renames it when complete, so that a
/// run that dies midway leaves no half-migrated template behind the real name.
fn create(admin: &mut postgres::Client, admin_url: &str, name: &str, runner: &refinery::Runner) {
    let partial = format!("{name}_partial");
    let run = |sql: String, admin: &mut postgres::Client| {
        admin.batch_execute(&sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    };
    run(format!("DROP DATABASE IF EXISTS {partial} WITH (FORCE)"), admin);
    run(format!("CREATE DATABASE {partial}"), admin);
    let mut conn = crate::connect(&crate::with_database(admin_url, &partial))
        .unwrap_or_else(|e| panic!("connect to the new template database {partial}: {e}"));
    runner.run(&mut conn).unwrap_or_else(|e| panic!("migrate the template database {partial}: {e}"));
    conn.close().unwrap_or_else(|e| panic!("disconnect from the template database {partial}: {e}"));
    run(format!("ALTER DATABASE {partial} RENAME TO {name}"), admin);
    run(format!("ALTER DATABASE {name} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false"), admin);
}

#[cfg(test)]
mod tests {
    use refinery::Migration;

    use super::{embedded, name_for};

    fn migration(file: &str, sql: &str) -> Migration {
        Migration::unapplied(file, sql).expect("a migration")
    }

    #[test]
    fn the_name_changes_with_any_migration() {
        let base = [migration("V1__a", "CREATE TABLE a (x INT);"), migration("V2__b", "CREATE TABLE b (x INT);")];
        let name = name_for(&base);
        assert!(name.starts_with("stockyard_template_v2_") && name.len() < 64, "{name}");
        let edited = [base[0].clone(), migration("V2__b", "CREATE TABLE b (y INT);")];
        let added = [base[0].clone(), base[1].clone(), migration("V3__c", "CREATE TABLE c (x INT);")];
        for other in [name_for(&edited), name_for(&added), name_for(&base[..1])] {
            assert_ne!(other, name);
        }
        assert_eq!(name_for(&base), name, "the same migrations, the same name");
    }

    #[test]
    fn a_copy_holds_every_migration_and_the_template_takes_no_connections() {
        let Some(db) = crate::TestDb::migrated_postgres() else { return };
        let runner = embedded::migrations::runner();
        let latest = runner.get_migrations().iter().map(Migration::version).max().expect("migrations");
        let applied = db.number("SELECT MAX(version)::BIGINT FROM refinery_schema_history");
        assert_eq!(applied, i64::from(latest));
        let name = name_for(runner.get_migrations());
        let flags = db.number(&format!(
            "SELECT COUNT(*) FROM pg_database WHERE datname = '{name}' AND datistemplate AND NOT datallowconn"
        ));
        assert_eq!(flags, 1, "{name} is a template that accepts no connections");
    }
}
