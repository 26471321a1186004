//! The daily job's removal of files still empty a day after they were made (SPEC §2.9: a record
//! at size 0 for each upload URL handed out): an upload URL never used, with whatever part of its
//! content reached the storage; uploaded files and recent empty ones stay.

use flexportal_testkit::{TestApp, both_engines};
use serde_json::json;

use super::files::{fetch, local, upload};
use super::jobs::jobs;

both_engines!(
    empty_files_go_a_day_after_their_url_expired,
    |app: TestApp| async move {
        app.set_date("2025-03-01", 9);
        let url = |name: &str| {
            json!({"action": "upload", "fileName": name, "contentType": "application/pdf",
            "expiresInMinutes": 1440})
        };
        // Never uploaded.
        let (s, b) = app.post("/v1/files/url", url("never.pdf")).await;
        assert_eq!(s, 200, "{b}");
        let never = b["fileId"].as_str().unwrap().to_string();
        // Content in the storage, but the size never recorded (a process that stopped between).
        let (_, b) = app.post("/v1/files/url", url("half.pdf")).await;
        let half = b["fileId"].as_str().unwrap().to_string();
        let (_, f) = app.get(&format!("/v1/files/{half}")).await;
        let half_url = local(b["url"].as_str().unwrap());
        let path = object_store::path::Path::from(
            format!(
                "tenants/{}/files/{half}/{}",
                app.tenant.tenant_id,
                f["filename"].as_str().unwrap()
            )
            .as_str(),
        );
        app.app()
            .files
            .store()
            .put(&path, b"%PDF-1.4 part".to_vec().into())
            .await
            .unwrap();
        // Uploaded.
        let done = upload(&app, url("done.pdf"), b"%PDF-1.4 whole").await;
        // Another business unit's empty file is not this unit's run's to remove.
        let other = app.new_tenant("EUR").await;
        let (s, b) = app
            .call_as(&other, "POST", "/v1/files/url", Some(url("other.pdf")))
            .await;
        assert_eq!(s, 200, "{b}");
        let other_file = b["fileId"].as_str().unwrap().to_string();

        // The next day the URLs still work: nothing goes.
        assert_eq!(jobs(&app, "2025-03-02").await.empty_files_removed, 0);
        for id in [&never, &half, &done] {
            assert_eq!(app.get(&format!("/v1/files/{id}")).await.0, 200, "{id}");
        }
        // 25 hours after they were made the empty ones go, their partial content with them.
        app.set_date("2025-03-02", 10);
        let (s, b) = app.post("/v1/files/url", url("recent.pdf")).await;
        assert_eq!(s, 200, "{b}");
        let recent = b["fileId"].as_str().unwrap().to_string();
        app.clock.advance(60_000);
        let report = flexportal_app::jobs::run(app.app(), Some(&app.tenant.tenant_id), None)
            .await
            .unwrap();
        assert_eq!(report.empty_files_removed, 2);
        for id in [&never, &half] {
            assert_eq!(app.get(&format!("/v1/files/{id}")).await.0, 404, "{id}");
        }
        assert!(matches!(
            app.app().files.store().head(&path).await,
            Err(object_store::Error::NotFound { .. })
        ));
        // An expired URL of a removed file cannot bring it back.
        let (s, _, _) = fetch(
            &app,
            "PUT",
            &half_url,
            Some("application/pdf"),
            b"x".to_vec(),
        )
        .await;
        assert!(s.is_client_error(), "{s}");
        let (_, f) = app.get(&format!("/v1/files/{done}")).await;
        assert_eq!(f["fileSize"], 14);
        assert_eq!(app.get(&format!("/v1/files/{recent}")).await.0, 200);
        let (s, _) = app
            .call_as(&other, "GET", &format!("/v1/files/{other_file}"), None)
            .await;
        assert_eq!(s, 200);
        // Running again removes nothing more.
        let report = flexportal_app::jobs::run(app.app(), Some(&app.tenant.tenant_id), None)
            .await
            .unwrap();
        assert_eq!(report.empty_files_removed, 0);
    }
);
