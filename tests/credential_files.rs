//! Credential files (rules/credential-files.toml): each file kind at the path it has in real
//! projects is found, with its weak-looking password reported; the same content at an unrelated
//! path is not reported by the path-scoped rule; and a credential file committed, then deleted,
//! is found in history at the commit that added it.
//!
//! Every credential here is fake (note the `FAKE` in each).

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::{git_at, write};
use serde_json::Value;
use tempfile::TempDir;

/// A file kind: where it lives, what it holds, the rule that must report it and the secret (each
/// secret distinct: a history scan reports one secret once, wherever it sits).
struct Kind {
    path: &'static str,
    data: &'static str,
    rule: &'static str,
    secret: &'static str,
    /// Whether the rule has a `path` filter (else it is keyed on a literal and runs anywhere).
    scoped: bool,
}

const KINDS: &[Kind] = &[
    Kind {
        path: "home/.s3cfg",
        data: "[default]\naccess_key = DO00FAKE7Q2X9LMR4TZA\nsecret_key = kQ7vR2mFAKEx9LpW3zT8nB1cD5\nhost_base = fra1.digitaloceanspaces.com\n",
        rule: "credential-file-assignment",
        secret: "kQ7vR2mFAKEx9LpW3zT8nB1cD5",
        scoped: true,
    },
    Kind {
        path: "home/.esmtprc",
        data: "hostname = smtp.acme.io:587\nusername = \"ops@acme.io\"\npassword = \"mailFAKE22\"\n",
        rule: "credential-file-assignment",
        secret: "mailFAKE22",
        scoped: true,
    },
    Kind {
        path: "home/.pypirc",
        data: "[distutils]\nindex-servers = internal\n\n[internal]\nrepository = https://pypi.acme.io/\nusername = deploy\npassword = pypassFAKE1\n",
        rule: "credential-file-assignment",
        secret: "pypassFAKE1",
        scoped: true,
    },
    Kind {
        path: "home/.tugboat",
        data: "---\nauthentication:\n  access_token: 7a9c2e4fFAKE1b3d5f6a8c0e2b4d6f8a\nssh:\n  ssh_user: root\n",
        rule: "credential-file-assignment",
        secret: "7a9c2e4fFAKE1b3d5f6a8c0e2b4d6f8a",
        scoped: true,
    },
    Kind {
        path: "shop/config/database.yml",
        data: "production:\n  adapter: postgresql\n  database: orders\n  username: app\n  password: orderFAKE22\n",
        rule: "credential-file-assignment",
        secret: "orderFAKE22",
        scoped: true,
    },
    Kind {
        path: "shop/config/mongoid.yml",
        data: "production:\n  clients:\n    default:\n      options:\n        user: app\n        password: \"mongoFAKE7\"\n",
        rule: "credential-file-assignment",
        secret: "mongoFAKE7",
        scoped: true,
    },
    Kind {
        path: "home/.kube/config",
        data: "apiVersion: v1\nkind: Config\nusers:\n- name: ci\n  user:\n    token: kubeTokFAKE9xR4mZ8kN3\n",
        rule: "credential-file-assignment",
        secret: "kubeTokFAKE9xR4mZ8kN3",
        scoped: true,
    },
    Kind {
        path: "api/.env",
        data: "APP_NAME=orders\nDB_HOST=db.acme.internal\nDB_PASSWORD=hunter22FAKE\n",
        rule: "credential-file-assignment",
        secret: "hunter22FAKE",
        scoped: true,
    },
    Kind {
        path: "site/sftp-config.json",
        data: "{\n    \"type\": \"sftp\",\n    \"host\": \"web1.acme.io\",\n    \"user\": \"deploy\",\n    \"password\": \"sftpFAKE22\",\n    //\"password\": \"password\",\n    \"remote_path\": \"/var/www/\"\n}\n",
        rule: "credential-file-json",
        secret: "sftpFAKE22",
        scoped: true,
    },
    Kind {
        path: "site/.ftpconfig",
        data: "{\n    \"protocol\": \"ftp\",\n    \"host\": \"ftp.acme.io\",\n    \"user\": \"webmaster\",\n    \"pass\": \"ftpFAKE22\"\n}\n",
        rule: "credential-file-json",
        secret: "ftpFAKE22",
        scoped: true,
    },
    Kind {
        path: "site/.remote-sync.json",
        data: "{\n  \"transport\": \"scp\",\n  \"hostname\": \"web1.acme.io\",\n  \"username\": \"deploy\",\n  \"password\": \"syncFAKE22\"\n}\n",
        rule: "credential-file-json",
        secret: "syncFAKE22",
        scoped: true,
    },
    Kind {
        path: "ws/.dbeaver/data-sources.json",
        data: "{\n  \"connections\": {\n    \"postgres-jdbc-1\": {\n      \"configuration\": {\n        \"host\": \"db.acme.internal\",\n        \"user\": \"report\",\n        \"password\": \"dbeaverFAKE2\"\n      }\n    }\n  }\n}\n",
        rule: "credential-file-json",
        secret: "dbeaverFAKE2",
        scoped: true,
    },
    Kind {
        path: "infra/terraform.tfstate",
        data: "{\n  \"resources\": [{\n    \"instances\": [{\n      \"attributes\": {\n        \"username\": \"admin\",\n        \"master_password\": \"tfstateFAKE2\"\n      }\n    }]\n  }]\n}\n",
        rule: "credential-file-json",
        secret: "tfstateFAKE2",
        scoped: true,
    },
    Kind {
        path: "home/.config/filezilla/recentservers.xml",
        data: "<FileZilla3><RecentServers><Server><Host>ftp.acme.io</Host><User>webmaster</User><Pass encoding=\"base64\">aHVudGVyMjJGQUtF</Pass></Server></RecentServers></FileZilla3>\n",
        // FileZilla 3 writes the password in base64: reported decoded.
        rule: "filezilla-password-base64",
        secret: "hunter22FAKE",
        scoped: true,
    },
    Kind {
        path: "home/.config/filezilla/sitemanager.xml",
        data: "<FileZilla3><Servers><Server><Host>ftp.acme.io</Host><User>deploy</User><Pass>zillaFAKE22</Pass></Server></Servers></FileZilla3>\n",
        rule: "filezilla-password",
        secret: "zillaFAKE22",
        scoped: true,
    },
    Kind {
        path: "shop/.idea/WebServers.xml",
        data: "<project version=\"4\">\n  <component name=\"WebServers\">\n    <webServer id=\"1\" name=\"prod\">\n      <fileTransfer host=\"ftp.acme.io\" port=\"21\" accessType=\"FTP\" login=\"webmaster\" password=\"dff7dff4FAKEdfee\" />\n    </webServer>\n  </component>\n</project>\n",
        rule: "jetbrains-password",
        secret: "dff7dff4FAKEdfee",
        scoped: true,
    },
    Kind {
        path: "shop/.idea/dataSources.local.xml",
        data: "<data-source name=\"orders@db\"><user-name>app</user-name><property name=\"password\" value=\"ideaFAKE22\" /></data-source>\n",
        rule: "jetbrains-password",
        secret: "ideaFAKE22",
        scoped: true,
    },
    Kind {
        path: "shop/config/master.key",
        data: "4f1e9c0b7a2d8e3fa6b5c4d1e0f9a8b7\n",
        rule: "rails-master-key",
        secret: "4f1e9c0b7a2d8e3fa6b5c4d1e0f9a8b7",
        scoped: true,
    },
    Kind {
        path: "shop/config/secrets.yml",
        data: "production:\n  secret_key_base: 8e2fa3c91b7d4e6f0a5c2b9d8e1f7a3c6b0d4e9f2a8c5b1d7e3f0a6c9b2d5e8f\n",
        rule: "rails-secret-key-base",
        secret: "8e2fa3c91b7d4e6f0a5c2b9d8e1f7a3c6b0d4e9f2a8c5b1d7e3f0a6c9b2d5e8f",
        scoped: false,
    },
    Kind {
        path: "web/.npmrc",
        data: "registry=https://npm.acme.io/\n//npm.acme.io/:_authToken=npmFAKE22\n",
        rule: "npmrc-credential",
        secret: "npmFAKE22",
        scoped: true,
    },
    Kind {
        path: "ops/kubeconfig.yaml",
        data: "users:\n- name: ci\n  user:\n    client-key-data: LS0tLS1CRUdJTiBFQyBQUklWQVRFIEtFWS0tLS0tCk1IY0NBUUVFSUZBS0VrZXlGQUtFa2V5RkFLRWtleUZBS0VrZXk=\n",
        rule: "kubeconfig-client-key",
        secret: "LS0tLS1CRUdJTiBFQyBQUklWQVRFIEtFWS0tLS0tCk1IY0NBUUVFSUZBS0VrZXlGQUtFa2V5RkFLRWtleUZBS0VrZXk=",
        scoped: false,
    },
    Kind {
        path: "www/.htpasswd",
        data: "admin:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9gFAKE=\n",
        rule: "htpasswd-file-entry",
        secret: "W6ph5Mm5Pz8GgiULbPgzG37mj9gFAKE=",
        scoped: true,
    },
    Kind {
        path: "blog/.env.production",
        data: "APP_ENV=production\nAPP_KEY=base64:Qm8vT2xFAKE9sLp3RzW4kN7yH2hJd6VbC1xF5gT0aE8=\n",
        rule: "laravel-app-key",
        secret: "Qm8vT2xFAKE9sLp3RzW4kN7yH2hJd6VbC1xF5gT0aE8=",
        scoped: false,
    },
    Kind {
        path: "mysite/mysite/settings.py",
        data: "DEBUG = False\nSECRET_KEY = 'django-insecure-q7#vFAKE2p(lw9x!r4mz8kn3@h1c'\n",
        rule: "django-secret-key",
        secret: "django-insecure-q7#vFAKE2p(lw9x!r4mz8kn3@h1c",
        scoped: true,
    },
    // Weak passwords in files whose purpose is credentials: reported however weak they look.
    Kind {
        path: "home/.pgpass",
        data: "# hostname:port:database:username:password\ndb.acme.internal:5432:orders:app:pgpgpg22\n",
        rule: "pgpass-password",
        secret: "pgpgpg22",
        scoped: true,
    },
    Kind {
        path: "home/.git-credentials",
        data: "https://ann:gitgit22@git.acme.io\n",
        rule: "git-credentials",
        secret: "gitgit22",
        scoped: true,
    },
    Kind {
        path: "home/.netrc",
        data: "machine ftp.acme.io\n  login webmaster\n  password ftpftp22\n",
        rule: "netrc-file-password",
        secret: "ftpftp22",
        scoped: true,
    },
    Kind {
        path: "ci/.npmrc",
        data: "registry=https://npm.acme.io/\n//npm.acme.io/:_auth=ZGVwbG95OmF1dGhGQUtFMjI=\nalways-auth=true\n",
        rule: "npmrc-credential",
        secret: "ZGVwbG95OmF1dGhGQUtFMjI=",
        scoped: true,
    },
    Kind {
        path: "home/.docker/config.json",
        data: "{\n  \"auths\": {\n    \"registry.acme.io\": {\n      \"auth\": \"ZGVwbG95OmRvY2tlckZBS0UyMg==\"\n    }\n  }\n}\n",
        rule: "docker-config-auth",
        secret: "ZGVwbG95OmRvY2tlckZBS0UyMg==",
        scoped: false,
    },
    Kind {
        path: "home/.dockercfg",
        data: "{\"registry.acme.io\": {\"auth\": \"Y2k6ZG9ja2VyY2ZnRkFLRTIy\", \"email\": \"ci@acme.io\"}}\n",
        rule: "docker-config-auth",
        secret: "Y2k6ZG9ja2VyY2ZnRkFLRTIy",
        scoped: false,
    },
    Kind {
        path: "blog/wp-config.php",
        data: "<?php\ndefine( 'DB_NAME', 'blog' );\ndefine( 'DB_USER', 'blog' );\ndefine( 'DB_PASSWORD', 'wpwp22' );\ndefine( 'DB_HOST', 'localhost' );\n",
        rule: "wordpress-config-secret",
        secret: "wpwp22",
        scoped: false,
    },
    Kind {
        path: "ws/.dbeaver/credentials-config.json",
        data: "{\"postgres-jdbc-18c2f0\":{\"#connection\":{\"user\":\"report\",\"password\":\"dbcredFAKE2\"}}}\n",
        rule: "credential-file-json",
        secret: "dbcredFAKE2",
        scoped: true,
    },
    // SQL dumps: mysqldump extended inserts, pg_dump's COPY, a setup script.
    Kind {
        path: "db/backup-2024-03-01.sql",
        data: "-- MySQL dump 10.13\nDROP TABLE IF EXISTS `users`;\nINSERT INTO `users` VALUES (1,'ann','ann@acme.io','$2y$10$TpaLZjmr71stdeJvaAuZ6juOMSI0GUdeTCrclewT5XujO9UFAKEP5','2024-03-01'),(2,'bob','bob@acme.io',NULL,'2024-03-02');\n",
        rule: "sql-dump-password-hash",
        secret: "$2y$10$TpaLZjmr71stdeJvaAuZ6juOMSI0GUdeTCrclewT5XujO9UFAKEP5",
        scoped: true,
    },
    Kind {
        path: "db/pg_dump.sql",
        data: "COPY public.auth_user (id, password, username) FROM stdin;\n1\tpbkdf2_sha256$720000$q7vFAKEx9LpW3zT8$Rk9vQmFyRkFLRWhhc2hWYWx1ZTEyMzQ1Njc4OTBhYmM=\tadmin\n\\.\n",
        rule: "sql-dump-password-hash",
        secret: "pbkdf2_sha256$720000$q7vFAKEx9LpW3zT8$Rk9vQmFyRkFLRWhhc2hWYWx1ZTEyMzQ1Njc4OTBhYmM=",
        scoped: true,
    },
    Kind {
        path: "legacy/members.sql",
        data: "INSERT INTO members (id, login, pass_md5) VALUES (7, 'bob', '0f3c9a7e1b5d8c2fa4e6b0d9c7a1e3f5');\n",
        rule: "sql-dump-user-hash",
        secret: "0f3c9a7e1b5d8c2fa4e6b0d9c7a1e3f5",
        scoped: true,
    },
    Kind {
        path: "docker/initdb.d/01-users.sql",
        data: "CREATE DATABASE orders;\nCREATE USER 'orders'@'%' IDENTIFIED BY 'ordersql22';\nGRANT ALL ON orders.* TO 'orders'@'%';\n",
        rule: "sql-create-user-password",
        secret: "ordersql22",
        scoped: true,
    },
];

/// Runs credsweep in `dir` with JSON output and secrets shown; returns the report.
fn run(dir: &Path, args: &[&str]) -> Value {
    let out = common::credsweep()
        .current_dir(dir)
        .args(args)
        .args(["--format", "json", "--no-redact", "--quiet"])
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "credsweep {args:?} gave no JSON report ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// The (path, rule, secret) of each finding.
fn findings(doc: &Value) -> BTreeSet<(String, String, String)> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap_or_default().to_string(),
                f["rule_id"].as_str().unwrap().to_string(),
                f["secret"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Where the content of `KINDS[i]` is put to check that a path-scoped rule ignores it.
fn unrelated_path(i: usize) -> String {
    format!("notes/fixture-{i:02}.txt")
}

#[test]
fn each_credential_file_is_found_at_its_path_and_not_elsewhere() {
    let dir = TempDir::new().unwrap();
    for (i, k) in KINDS.iter().enumerate() {
        write(dir.path(), k.path, k.data);
        write(dir.path(), &unrelated_path(i), k.data);
    }
    let found = findings(&run(dir.path(), &["dir", ".", "--no-ignore"]));
    for (i, k) in KINDS.iter().enumerate() {
        let want = (k.path.to_string(), k.rule.to_string(), k.secret.to_string());
        assert!(found.contains(&want), "missing {want:?} in {found:#?}");
        if k.scoped {
            let elsewhere = unrelated_path(i);
            assert!(
                !found.iter().any(|(p, r, _)| *p == elsewhere && r == k.rule),
                "{} reported at {elsewhere}: {found:#?}",
                k.rule
            );
        }
    }
}

#[test]
fn placeholders_in_credential_files_are_not_reported() {
    let dir = TempDir::new().unwrap();
    write(
        dir.path(),
        "home/.s3cfg",
        "[default]\naccess_key =\nsecret_key =\n# secret_key = kQ7vR2mFAKEx9LpW3zT8nB1cD5\n",
    );
    write(
        dir.path(),
        "api/.env",
        "DB_PASSWORD=${VAULT_DB_PASSWORD}\nAPI_TOKEN=\nSESSION_SECRET=<session secret>\nENABLE_TOKEN=true\n",
    );
    write(
        dir.path(),
        "shop/config/database.yml",
        "production:\n  password: <%= ENV['DATABASE_PASSWORD'] %>\n  #password: hunter22FAKE\n",
    );
    write(
        dir.path(),
        "site/sftp-config.json",
        "{\n    //\"password\": \"password\",\n    \"password\": \"\",\n    \"user\": \"deploy\"\n}\n",
    );
    write(
        dir.path(),
        "home/.pgpass",
        "# hostname:port:database:username:password\n*:*:*:app:<password>\n",
    );
    write(
        dir.path(),
        "home/.netrc",
        "machine git.acme.io login ci password $CI_TOKEN\n",
    );
    write(
        dir.path(),
        "db/schema.sql",
        "-- users.password holds bcrypt hashes ($2y$10$...)\nCREATE USER 'app'@'%' IDENTIFIED BY '<password>';\nINSERT INTO products VALUES (1,'widget','5f4dcc3b5aa765d61d8327deb882cf99');\n",
    );
    let found = findings(&run(dir.path(), &["dir", ".", "--no-ignore"]));
    assert!(found.is_empty(), "{found:#?}");
}

/// Reports redact repository strings, but a built-in rule's description is the project's own
/// text: its words must not be taken for credentials (`password in a FileZilla site list` once
/// lost its `in`).
#[test]
fn a_built_in_rule_description_is_reported_whole_when_secrets_are_redacted() {
    let dir = TempDir::new().unwrap();
    write(
        dir.path(),
        "home/.config/filezilla/recentservers.xml",
        "<FileZilla3><RecentServers><Server><Host>ftp.acme.io</Host><User>webmaster</User><Pass encoding=\"base64\">aHVudGVyMjJGQUtF</Pass></Server></RecentServers></FileZilla3>\n",
    );
    let out = common::credsweep()
        .current_dir(dir.path())
        .args(["dir", ".", "--no-ignore", "--format", "json", "--quiet"])
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let finding = &doc["findings"][0];
    assert_eq!(finding["rule_id"], "filezilla-password-base64", "{doc:#}");
    let description = finding["description"].as_str().unwrap();
    assert!(
        description.starts_with("Server password in a FileZilla site list"),
        "{description}"
    );
    assert!(!description.contains('\u{2026}'), "{description}");
    // The secret itself is still redacted.
    assert_ne!(finding["secret"], "hunter22FAKE", "{doc:#}");
}

/// A compressed dump is scanned as the `.sql` file it holds (member path `dump.sql.gz!dump.sql`).
#[test]
fn a_gzipped_sql_dump_is_found() {
    use std::io::Write;
    let dir = TempDir::new().unwrap();
    let dump = KINDS
        .iter()
        .find(|k| k.path == "db/backup-2024-03-01.sql")
        .unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(dump.data.as_bytes()).unwrap();
    write(dir.path(), "db/backup.sql.gz", gz.finish().unwrap());
    let found = findings(&run(dir.path(), &["dir", ".", "--no-ignore"]));
    let want = (
        "db/backup.sql.gz!backup.sql".to_string(),
        dump.rule.to_string(),
        dump.secret.to_string(),
    );
    assert_eq!(found, BTreeSet::from([want]));
}

/// A fake bcrypt hash, distinct for each `i`.
fn bcrypt(i: usize) -> String {
    format!("$2y$10$Tq7vFAKE{i:06}pLw9zT8xQmRkLZjmr71stdeJvaAuZ6juOMSI0GU")
}

/// A dump's password hashes are reported three per rule and file (`max_per_file`), the rest
/// counted on the third: in one-row INSERTs, in mysqldump's extended INSERTs, and per file, so
/// that a second dump is reported too.
#[test]
fn a_dump_with_many_hashes_is_reported_three_per_rule_and_file_with_the_rest_counted() {
    let dir = TempDir::new().unwrap();
    let mut rows = String::from("DROP TABLE IF EXISTS `users`;\n");
    for i in 0..250 {
        rows += &format!("INSERT INTO `users` VALUES ({i},'u{i}','{}');\n", bcrypt(i));
        // One-row INSERTs into a users table with an md5 column: one match per statement.
        rows += &format!(
            "INSERT INTO `members` VALUES ({i},'m{i}','{:032x}');\n",
            0x0f3c_9a7e_1b5d_8c2f_a4e6_b0d9_c7a1_e3f5_u128 + i as u128
        );
    }
    write(dir.path(), "db/rows.sql", &rows);
    // Ids 1100..1200 left out: the row of 1122 is dropped by the shared placeholder filter.
    let extended: Vec<String> = (1000..1400)
        .filter(|i| i / 100 != 11)
        .map(|i| format!("({i},'u{i}','{}')", bcrypt(i)))
        .collect();
    let extended = format!("INSERT INTO `users` VALUES {};\n", extended.join(","));
    write(dir.path(), "db/extended.sql", &extended);

    let doc = run(dir.path(), &["dir", ".", "--no-ignore"]);
    let got: Vec<(String, String, u32, u64)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["rule_id"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap() as u32,
                f["folded"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    let hash = "sql-dump-password-hash".to_string();
    let digest = "sql-dump-user-hash".to_string();
    let (ext, rows) = ("db/extended.sql".to_string(), "db/rows.sql".to_string());
    assert_eq!(
        got,
        [
            (ext.clone(), hash.clone(), 1, 0),
            (ext.clone(), hash.clone(), 1, 0),
            (ext, hash.clone(), 1, 297),
            (rows.clone(), hash.clone(), 2, 0),
            (rows.clone(), digest.clone(), 3, 0),
            (rows.clone(), hash.clone(), 4, 0),
            (rows.clone(), digest.clone(), 5, 0),
            (rows.clone(), hash, 6, 247),
            (rows, digest, 7, 247),
        ],
        "{doc:#}"
    );
    assert_eq!(doc["summary"]["findings"], 9);
    // The first three hashes are listed as found; the count is the text report's too.
    assert_eq!(doc["findings"][0]["secret"], bcrypt(1000));
    let text = common::credsweep()
        .current_dir(dir.path())
        .args(["dir", ".", "--no-ignore", "--color", "never"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("and 247 more of sql-dump-password-hash in this file, not listed"),
        "{text}"
    );
}

/// Runs git in `dir` at a fixed date `n` minutes after a start.
fn commit(dir: &Path, n: u64, msg: &str) -> String {
    let date = format!("@{} +0000", 1_700_000_000 + 60 * n);
    git_at(dir, &["add", "-A"], &date);
    git_at(dir, &["commit", "-q", "--allow-empty", "-m", msg], &date);
    common::git(dir, &["rev-parse", "HEAD"]).trim().to_string()
}

#[test]
fn a_deleted_s3cfg_is_found_in_history_at_the_commit_that_added_it() {
    let dir = TempDir::new().unwrap();
    let root = dir.path();
    common::git(root, &["init", "-q", "."]);
    write(root, "README.md", "# storage tools\n");
    commit(root, 1, "start");
    let s3cfg = &KINDS[0];
    write(root, "ops/.s3cfg", s3cfg.data);
    // The same bytes at an ordinary path: not a credential file.
    write(root, "docs/s3cmd-config.txt", s3cfg.data);
    let added = commit(root, 2, "add s3cmd config");
    std::fs::remove_file(root.join("ops/.s3cfg")).unwrap();
    commit(root, 3, "remove it");
    let doc = run(root, &["git", "."]);
    let hits: Vec<(String, Option<String>)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule_id"] == s3cfg.rule)
        .map(|f| {
            assert_eq!(f["secret"], s3cfg.secret, "{f:#}");
            (
                f["path"].as_str().unwrap().to_string(),
                f["commit"].as_str().map(str::to_string),
            )
        })
        .collect();
    assert_eq!(hits, [("ops/.s3cfg".to_string(), Some(added))], "{doc:#}");
}

/// A history scan resolves overlapping matches before it knows a blob's paths: every file kind
/// must still come out under its own rule (no path-scoped rule takes another's match and is then
/// dropped at the real path).
#[test]
fn every_credential_file_is_found_in_history() {
    let dir = TempDir::new().unwrap();
    let root = dir.path();
    common::git(root, &["init", "-q", "."]);
    for k in KINDS {
        write(root, k.path, k.data);
    }
    commit(root, 1, "add everything");
    let found = findings(&run(root, &["git", "."]));
    for k in KINDS {
        let want = (k.path.to_string(), k.rule.to_string(), k.secret.to_string());
        assert!(found.contains(&want), "missing {want:?} in {found:#?}");
    }
}
