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
        rule: "filezilla-password",
        secret: "aHVudGVyMjJGQUtF",
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
    let found = findings(&run(dir.path(), &["dir", ".", "--no-ignore"]));
    assert!(found.is_empty(), "{found:#?}");
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
