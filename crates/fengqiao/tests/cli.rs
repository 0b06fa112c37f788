//! The `fengqiao` binary as an operator uses it: migrate, import, user add, backup, audit verify, serve.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn fengqiao(data_dir: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_fengqiao"));
    command
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("FENGQIAO_DATABASE")
        .env_remove("FENGQIAO_DATA_KEY")
        .env("FENGQIAO_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("spawn fengqiao");
    if let (Some(mut input), Some(text)) = (child.stdin.take(), stdin) {
        input.write_all(text.as_bytes()).expect("stdin");
    }
    child.wait_with_output().expect("wait")
}

fn ok(output: &Output) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(
        output.status.success(),
        "failed: {stderr}\n{}",
        String::from_utf8_lossy(&output.stdout)
    );
    stderr
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    path.display().to_string()
}

#[test]
fn an_operator_sets_up_imports_and_verifies() -> TestResult {
    let work = tempfile::tempdir()?;
    let data = work.path().join("data");
    ok(&fengqiao(&data, &["migrate"], None));
    assert!(
        data.join("fengqiao.db").exists(),
        "SQLite is created in the data directory"
    );
    assert!(
        data.join("personal-data.key").exists(),
        "a single node generates its key into the data directory"
    );

    let regions = write(
        work.path(),
        "regions.csv",
        "code,name,parent_code\n37,山东省,\n3708,济宁市,\n370883,邹城市,\n370883107,太平镇,\n370883107001,鲍店社区,\n",
    );
    let stderr = ok(&fengqiao(&data, &["import", "regions", &regions], None));
    assert!(stderr.contains("imported 5 regions"), "{stderr}");
    let bad = write(work.path(), "bad.csv", "code,name\n3708x,坏代码\n");
    let output = fengqiao(&data, &["import", "regions", &bad], None);
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("regions[0].code"),
        "the bad field is named"
    );

    let departments = write(
        work.path(),
        "departments.csv",
        "name,kind,region_code\n太平镇派出所,police_station,370883107\n",
    );
    ok(&fengqiao(
        &data,
        &["import", "departments", &departments],
        None,
    ));
    let grids = write(
        work.path(),
        "grids.geojson",
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"370883107001001","name":"鲍店第1网格"},"geometry":{"type":"Polygon","coordinates":[[[116.79,35.39],[116.81,35.39],[116.81,35.41],[116.79,35.41],[116.79,35.39]]]}}]}"#,
    );
    let stderr = ok(&fengqiao(&data, &["import", "grids", &grids], None));
    assert!(stderr.contains("imported 1 grids"), "{stderr}");

    let users = write(
        work.path(),
        "users.csv",
        "username,display_name,role,scope\nzhang,张三,intake_clerk,region:370883107\nzhang,张三,leader,region:370883107\nli,李四,handler,dept:1\n",
    );
    let passwords = work.path().join("passwords.csv");
    ok(&fengqiao(
        &data,
        &[
            "import",
            "users",
            &users,
            "--passwords-out",
            &passwords.display().to_string(),
        ],
        None,
    ));
    let written = std::fs::read_to_string(&passwords)?;
    assert_eq!(written.lines().count(), 3, "{written}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&passwords)?.permissions().mode() & 0o777,
            0o600
        );
    }

    // user add reads the password from standard input, never from the command line.
    let stderr = ok(&fengqiao(
        &data,
        &[
            "user",
            "add",
            "--username",
            "wang",
            "--role",
            "dispatcher",
            "--scope",
            "370883107",
            "--password-stdin",
        ],
        Some("Wang@2026pass\n"),
    ));
    assert!(stderr.contains("created user wang"), "{stderr}");
    let output = fengqiao(
        &data,
        &[
            "user",
            "add",
            "--username",
            "weak",
            "--role",
            "dispatcher",
            "--scope",
            "370883107",
            "--password-stdin",
        ],
        Some("123\n"),
    );
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("password"));
    let output = fengqiao(
        &data,
        &[
            "user",
            "add",
            "--username",
            "nobody",
            "--role",
            "mayor",
            "--scope",
            "370883107",
            "--password-stdin",
        ],
        Some("Wang@2026pass\n"),
    );
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("roles[0].role"));

    // A consistent online copy.
    let copy = work.path().join("copy.db");
    ok(&fengqiao(
        &data,
        &["backup", "--out", &copy.display().to_string()],
        None,
    ));
    assert!(std::fs::metadata(&copy)?.len() > 0);
    let copy_dir = work.path().join("restored");
    std::fs::create_dir_all(&copy_dir)?;
    std::fs::copy(&copy, copy_dir.join("fengqiao.db"))?;
    std::fs::copy(
        data.join("personal-data.key"),
        copy_dir.join("personal-data.key"),
    )?;
    let restored = fengqiao(&copy_dir, &["audit", "verify"], None);
    assert!(
        restored.status.success(),
        "the copy opens and its chain verifies: {}",
        String::from_utf8_lossy(&restored.stderr)
    );

    // The chain verifies; tampering makes verify fail and name the first bad record.
    let stderr = ok(&fengqiao(&data, &["audit", "verify"], None));
    assert!(stderr.contains("audit trail intact"), "{stderr}");
    assert!(
        data.join("audit-checkpoint.json").exists(),
        "the head is kept outside the database"
    );
    let db = data.join("fengqiao.db");
    let status = Command::new("python3")
        .arg("-c")
        .arg(format!(
            "import sqlite3; c=sqlite3.connect({:?}); c.execute('DROP TRIGGER audit_log_seal_once'); c.execute(\"UPDATE audit_log SET actor='user:999' WHERE chain_seq=2\"); c.commit()",
            db.display().to_string()
        ))
        .status()?;
    assert!(
        status.success(),
        "python3 with sqlite3 tampers with the file"
    );
    let output = fengqiao(&data, &["audit", "verify"], None);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("AUDIT TRAIL BROKEN at chain position 2"),
        "{stderr}"
    );
    Ok(())
}

#[test]
fn postgres_needs_a_configured_key_and_its_own_backup_tools() -> TestResult {
    let work = tempfile::tempdir()?;
    let output = fengqiao(
        work.path(),
        &["migrate", "--database", "postgres://127.0.0.1:1/none"],
        None,
    );
    assert!(!output.status.success());
    let output = fengqiao(
        work.path(),
        &[
            "backup",
            "--out",
            "/tmp/x.db",
            "--database",
            "postgres://127.0.0.1:1/none",
        ],
        None,
    );
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("pg_dump"));
    let output = fengqiao(
        work.path(),
        &[
            "serve",
            "--tls-cert",
            "/nonexistent/cert.pem",
            "--tls-key",
            "/nonexistent/key.pem",
            "--listen",
            "127.0.0.1:0",
        ],
        None,
    );
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("TLS certificate"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    if let Ok(url) = std::env::var("FQ_TEST_POSTGRES_URL") {
        // Without FENGQIAO_DATA_KEY a PostgreSQL deployment refuses to start.
        let output = fengqiao(work.path(), &["migrate", "--database", &url], None);
        assert!(!output.status.success());
        assert!(String::from_utf8_lossy(&output.stderr).contains("FENGQIAO_DATA_KEY"));
    }
    Ok(())
}

/// Starts `fengqiao serve` with built-in TLS and talks HTTPS to it: the phone's position in the browser needs it.
#[test]
fn serves_https_with_built_in_tls() -> TestResult {
    use std::io::BufRead;
    let work = tempfile::tempdir()?;
    let data = work.path().join("data");
    ok(&fengqiao(&data, &["migrate"], None));
    let regions = write(work.path(), "regions.csv", "code,name\n37,山东省\n");
    ok(&fengqiao(&data, &["import", "regions", &regions], None));
    ok(&fengqiao(
        &data,
        &[
            "user",
            "add",
            "--username",
            "tls_admin",
            "--role",
            "admin",
            "--scope",
            "37",
            "--password-stdin",
        ],
        Some("Tls@2026pass\n"),
    ));

    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_string()])?;
    let cert = write(work.path(), "cert.pem", &certified.cert.pem());
    let key = write(
        work.path(),
        "key.pem",
        &certified.signing_key.serialize_pem(),
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_fengqiao"))
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--tls-cert",
            &cert,
            "--tls-key",
            &key,
            "--data-dir",
        ])
        .arg(&data)
        .env("FENGQIAO_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;
    // Wait for the server to say it listens (bounded by the process's own output, not by a sleep).
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = std::io::BufReader::new(stderr).lines();
    let mut listening = false;
    for line in lines.by_ref().take(200) {
        if line?.contains("listening (HTTPS)") {
            listening = true;
            break;
        }
    }
    assert!(listening, "the server announced HTTPS");

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(async {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut roots = tokio_rustls::rustls::RootCertStore::empty();
        roots.add(certified.cert.der().clone())?;
        let config = tokio_rustls::rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
            tokio_rustls::rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
        let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
        let mut answers = Vec::new();
        for request in [
            "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".to_string(),
            {
                let body = r#"{"username":"tls_admin","password":"Tls@2026pass"}"#;
                format!("POST /api/v1/auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len())
            },
        ] {
            let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
            let name = tokio_rustls::rustls::pki_types::ServerName::try_from("localhost")?;
            let mut tls = connector.connect(name, tcp).await?;
            tls.write_all(request.as_bytes()).await?;
            let mut answer = String::new();
            tls.read_to_string(&mut answer).await?;
            answers.push(answer);
        }
        Ok::<_, Box<dyn std::error::Error>>(answers)
    });
    let _ = child.kill();
    let _ = child.wait();
    let answers = result?;
    assert!(answers[0].starts_with("HTTP/1.1 200"), "{}", answers[0]);
    assert!(answers[0].ends_with("ok"), "{}", answers[0]);
    assert!(answers[1].starts_with("HTTP/1.1 200"), "{}", answers[1]);
    let cookie = answers[1]
        .lines()
        .find(|l| {
            l.to_ascii_lowercase()
                .starts_with("set-cookie: fq_session=")
        })
        .expect("a session cookie");
    assert!(
        cookie.contains("; Secure") && cookie.contains("HttpOnly"),
        "over TLS the cookie is Secure: {cookie}"
    );
    Ok(())
}
